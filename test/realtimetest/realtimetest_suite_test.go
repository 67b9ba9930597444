package realtimetest_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestRealtimetest(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "realtimetest Suite")
}
