package pgtest

// SetLibGlob replaces the distribution binary directory pattern for a test
// and returns a function restoring it.
func SetLibGlob(pattern string) (restore func()) {
	old := libGlob
	libGlob = pattern
	return func() { libGlob = old }
}
