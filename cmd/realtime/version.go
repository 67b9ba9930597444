package main

import "runtime/debug"

// fallbackVersion is reported when the binary carries no module version
// (built inside the repository with go build or go run).
const fallbackVersion = "v0.1.0-dev"

// version is the module version the binary was built from: the tag for
// `go install github.com/supabase-go/realtime/cmd/realtime@vX`, else
// fallbackVersion, with the VCS revision when the build recorded one.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return fallbackVersion
	}
	return versionFrom(info)
}

func versionFrom(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v != "" && v != "(devel)" {
		return v
	}
	v = fallbackVersion
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (" + rev
		if modified == "true" {
			v += ", modified"
		}
		v += ")"
	}
	return v
}
