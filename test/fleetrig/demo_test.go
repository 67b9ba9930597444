package fleetrig_test

import (
	"os/exec"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The command a person types (make fleet-demo runs exactly this).
var _ = Describe("make fleet-demo (go run ./test/fleetrig/demo)", func() {
	It("shows ownership moving after a SIGKILL and exits 0", func(ctx SpecContext) {
		cmd := exec.CommandContext(ctx, "go", "run", "./demo")
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "%s", out)
		Expect(string(out)).To(ContainSubstring("every subscription has exactly one owner and is joined"))
		Expect(string(out)).To(MatchRegexp(`killed node \d with SIGKILL; it owned sub-\d\d`))
		Expect(string(out)).To(MatchRegexp(`sub-\d\d joined again on node \d after [0-9.]+s; it was told it may have missed changes since`))
		Expect(string(out)).To(ContainSubstring("every row inserted after the handover was handled exactly once"))
	}, NodeTimeout(5*time.Minute))
})
