package process

// stillActive is what GetExitCodeProcess returns for a process that has not exited
// (STILL_ACTIVE); a process that chose 259 as its exit code cannot be told apart from it.
const stillActive = 259

// exitCodeOf turns the code Windows reports into an exit code, or false when the process
// has not exited (it was not listed for another reason) and no code is known.
func exitCodeOf(code uint32) (uint32, bool) {
	if code == stillActive {
		return 0, false
	}
	return code, true
}
