package telemetry_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The packages a plain agent imports, and this one, depend on the
// OpenTelemetry API only: never on the SDK or an exporter, which only the
// application (cmd/agent) links.
func TestNoSDKInLibraries(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "../agent", "../responses", "../tools/...", ".")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var api int
	for pkg := range strings.Lines(string(out)) {
		pkg = strings.TrimSpace(pkg)
		if strings.HasPrefix(pkg, "go.opentelemetry.io/otel/sdk") || strings.HasPrefix(pkg, "go.opentelemetry.io/otel/exporters") ||
			strings.HasPrefix(pkg, "google.golang.org/grpc") {
			t.Errorf("a library package depends on %s", pkg)
		}
		if pkg == "go.opentelemetry.io/otel/trace" {
			api++
		}
	}
	require.Equal(t, 1, api, "the API is among the dependencies (the test looks at the right list)")
}
