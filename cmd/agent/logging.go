package main

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// startLogging returns the logger for the library's logs (the loop, MCP
// servers and their notifications) that --log-level and --log-file ask
// for: nil (logs discarded) when neither is given, stderr at the given
// level when only the level is, and the file (appended to, info level by
// default) when it is given. close closes the file.
func startLogging(e *env, level, file string) (log *slog.Logger, close func(), err error) {
	close = func() {}
	if level == "" && file == "" {
		return nil, close, nil
	}
	var lv slog.Level
	switch strings.ToLower(level) {
	case "", "info":
		lv = slog.LevelInfo
	case "debug":
		lv = slog.LevelDebug
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, close, usagef("--log-level %q: use debug, info, warn or error", level)
	}
	var w io.Writer = e.stderr
	if file != "" {
		f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, close, usagef("--log-file: %v", err)
		}
		w, close = f, func() { _ = f.Close() }
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv})), close, nil
}
