//go:build !realtime_testhooks

package registry

// testHook ignores every message: the test hooks (Crash) exist only in
// builds with the realtime_testhooks tag.
func testHook(any) {}
