#!/usr/bin/env bash
# Tree hygiene, part of make test:
#  1. no tracked file is larger than 1 MB (the tree holds source, not build
#     output or generated data);
#  2. a program that only imports package realtime resolves at most 3
#     modules more than one that only imports protoactor-go's actor package
#     (the floor that comes with the design): the test rig (ginkgo, gomega,
#     pgx, …) lives in the nested modules test/ and cmd/ and never reaches a
#     user's module graph.
set -euo pipefail
cd "$(dirname "$0")/.."

limit=$((1024 * 1024))
big=$(git ls-files -z | xargs -0 -r stat -c '%s %n' 2>/dev/null | awk -v l=$limit '$1 > l {print}')
if [ -n "$big" ]; then
	echo "tracked files over 1 MB:"; echo "$big"; exit 1
fi
echo "hygiene: no tracked file over 1 MB (largest: $(git ls-files -z | xargs -0 -r stat -c '%s %n' | sort -n | tail -1))"

root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
protoactor=$(GOWORK=off go list -m -f '{{.Version}}' github.com/asynkron/protoactor-go)

count() { # dir main.go-body -> number of modules in go list -m all
	local dir=$1
	(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 && GOWORK=off go list -m all | wc -l)
}

mkdir -p "$tmp/floor" "$tmp/hello"
cat > "$tmp/floor/main.go" <<'GO'
package main

import "github.com/asynkron/protoactor-go/actor"

func main() { _ = actor.NewActorSystem() }
GO
printf 'module floor\n\ngo 1.26\n\nrequire github.com/asynkron/protoactor-go %s\n' "$protoactor" > "$tmp/floor/go.mod"

cat > "$tmp/hello/main.go" <<'GO'
package main

import realtime "github.com/supabase-go/realtime"

func main() { c, _ := realtime.New("http://127.0.0.1:1", "key"); _ = c }
GO
printf 'module hello\n\ngo 1.26\n\nrequire github.com/supabase-go/realtime v0.1.0\n\nreplace github.com/supabase-go/realtime => %s\n' "$root" > "$tmp/hello/go.mod"

floor=$(count "$tmp/floor")
hello=$(count "$tmp/hello")
extra=$((hello - floor))
echo "hygiene: a hello world resolves $hello modules, $extra more than protoactor-go's actor package alone ($floor)"
if [ "$extra" -gt 3 ]; then
	(cd "$tmp/hello" && GOWORK=off go list -m all) | sort > "$tmp/h"
	(cd "$tmp/floor" && GOWORK=off go list -m all) | sort > "$tmp/f"
	echo "modules beyond the floor:"; comm -23 <(awk '{print $1}' "$tmp/h") <(awk '{print $1}' "$tmp/f")
	exit 1
fi
