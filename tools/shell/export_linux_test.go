package shell

// WithoutHelper runs f as if the program had not called
// RunSandboxHelperIfRequested: unsandboxed commands then run without the
// reaper helper. Tests using it must not run in parallel with others.
func WithoutHelper(f func()) {
	helperInstalled.Store(false)
	defer helperInstalled.Store(true)
	f()
}
