package realtime_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestRealtime(t *testing.T) {
	RegisterFailHandler(Fail)
	suite, reporter := GinkgoConfiguration()
	if suite.LabelFilter == "" {
		// Specs labelled needs-dispatch assert behaviour that needs the
		// Handler dispatch decoupled from the registry (see
		// RELIABILITY.md); run them with `make needs-dispatch` or
		// -ginkgo.label-filter=needs-dispatch. Ginkgo reports them as
		// skipped here, never as passed.
		suite.LabelFilter = "!needs-dispatch"
	}
	RunSpecs(t, "realtime client", suite, reporter)
}
