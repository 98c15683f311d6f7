package mcp

import (
	"context"
	"encoding/json"
	"log/slog"
)

// logServerMessage logs a server's notifications/message to logger at the
// matching slog level: debug at Debug; info and notice at Info; warning at
// Warn; error, critical, alert and emergency at Error. A string payload is
// the record's message; any other payload goes into the "data" attribute as
// JSON. The MCP level and the server's logger name are attributes.
func logServerMessage(logger *slog.Logger, f map[string]any) {
	level, _ := f["level"].(string)
	lv := slogLevel(level)
	ctx := context.Background()
	if !logger.Enabled(ctx, lv) {
		return
	}
	attrs := []any{"mcp_level", level}
	if name, ok := f["logger"].(string); ok && name != "" {
		attrs = append(attrs, "mcp_logger", name)
	}
	msg := "mcp server log"
	switch d := f["data"].(type) {
	case string:
		msg = d
	case nil:
	default:
		b, err := json.Marshal(d)
		if err != nil {
			b = []byte(`"unprintable data"`)
		}
		attrs = append(attrs, "data", string(b))
	}
	logger.Log(ctx, lv, msg, attrs...)
}

// slogLevel maps an MCP (syslog) level to a slog level. Unknown levels are
// Info.
func slogLevel(level string) slog.Level {
	switch level {
	case "debug":
		return slog.LevelDebug
	case "warning":
		return slog.LevelWarn
	case "error", "critical", "alert", "emergency":
		return slog.LevelError
	}
	return slog.LevelInfo
}
