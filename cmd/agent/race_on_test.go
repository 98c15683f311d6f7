//go:build race

package main

// raceEnabled builds the binary under test with the race detector too, so
// the end-to-end tests find data races in the command and the library.
const raceEnabled = true
