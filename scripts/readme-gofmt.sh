#!/bin/sh
# readme-gofmt.sh FILE.md...: every ```go block of the Markdown files must
# be gofmt-clean. Each block goes through gofmt on stdin, which also accepts
# fragments (declarations or statements), and must come out unchanged; a
# block that does not parse fails too. Part of `make fmt`.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for md in "$@"; do
	rm -f "$tmp"/block.*
	awk -v dir="$tmp" '
		/^```go[ \t]*$/ { n++; inblock = 1; line[n] = NR + 1; next }
		/^```/ && inblock { inblock = 0; next }
		inblock { print > (dir "/block." n) }
		END { for (i = 1; i <= n; i++) print line[i] > (dir "/lines") }
	' "$md"
	[ -f "$tmp/lines" ] || continue
	i=0
	while read -r start; do
		i=$((i + 1))
		if ! out=$(gofmt <"$tmp/block.$i" 2>&1); then
			echo "$md:$start: go block does not parse:"
			echo "$out" | sed 's/^/    /'
			status=1
		elif [ "$out" != "$(cat "$tmp/block.$i")" ]; then
			echo "$md:$start: go block is not gofmt-clean:"
			printf '%s\n' "$out" | diff -u "$tmp/block.$i" - | tail -n +3 | sed 's/^/    /' || true
			status=1
		fi
	done <"$tmp/lines"
	rm -f "$tmp/lines"
done
exit $status
