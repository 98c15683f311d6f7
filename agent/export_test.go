package agent

// Silence makes m give no Emit actions, as in a quiet run.
func Silence(m *Machine) { m.silent = true }
