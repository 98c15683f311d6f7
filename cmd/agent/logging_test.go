package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartLogging(t *testing.T) {
	var stderr bytes.Buffer
	e := &env{stderr: &stderr}

	log, closeLog, err := startLogging(e, "", "")
	require.NoError(t, err)
	assert.Nil(t, log, "no flag: the library's logs are discarded")
	closeLog()

	log, closeLog, err = startLogging(e, "warn", "")
	require.NoError(t, err)
	log.Info("quiet")
	log.Warn("loud", "k", "v")
	closeLog()
	assert.NotContains(t, stderr.String(), "quiet")
	assert.Contains(t, stderr.String(), "level=WARN msg=loud k=v")

	path := filepath.Join(t.TempDir(), "agent.log")
	log, closeLog, err = startLogging(e, "debug", path)
	require.NoError(t, err)
	log.Debug("to the file")
	closeLog()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "msg=\"to the file\"")

	_, _, err = startLogging(e, "loud", "")
	require.ErrorContains(t, err, `--log-level "loud": use debug, info, warn or error`)
	_, _, err = startLogging(e, "", filepath.Join(t.TempDir(), "no", "such", "dir", "x.log"))
	require.ErrorContains(t, err, "--log-file")
}
