// Package proc holds the process helpers that the shell executor and the MCP
// client share.
package proc
