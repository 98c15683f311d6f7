#!/usr/bin/env bash
# build.sh COMPONENT CACHE builds one Go-built test component into the cache
# directory CACHE, unless it is already there (build.sh clean CACHE removes
# the Go caches the builds used, once every component is built):
#
#   temporal  the Temporal CLI (its dev server), CACHE/temporal-$TEMPORAL_VERSION/temporal
#   jaeger    Jaeger v2, CACHE/jaeger-$JAEGER_VERSION/jaeger
#
# It prints the binary's path on its last line. test.sh runs it in the
# background for both components at once. The builds use Go caches of their
# own under CACHE/go (they need about 4 GB), so they leave the user's caches
# alone and a cold run is cold whatever the machine has; test.sh removes them
# once every component is built. A lock file makes two concurrent runs build
# each component once.
set -euo pipefail

TEMPORAL_VERSION=v1.5.1 # newer CLIs cannot be built from the module proxy
JAEGER_VERSION=v1.75.0  # the last approved release; v1.76.0 is not one

usage() {
	echo "usage: build.sh temporal|jaeger|clean CACHE" >&2
	exit 2
}
[ $# -eq 2 ] || usage
component=$1
cache=$2

if [ "$component" = clean ]; then
	# Wait for any build in progress (another run's) before removing its caches.
	t=$cache/temporal-$TEMPORAL_VERSION j=$cache/jaeger-$JAEGER_VERSION
	mkdir -p "$t" "$j"
	exec 8>"$t/.lock" 9>"$j/.lock"
	flock 8
	flock 9
	if [ -x "$t/temporal" ] && [ -x "$j/jaeger" ]; then
		rm -rf "$cache/go"
	fi
	exit 0
fi

case $component in
temporal) dir=$cache/temporal-$TEMPORAL_VERSION ;;
jaeger) dir=$cache/jaeger-$JAEGER_VERSION ;;
*) usage ;;
esac
bin=$dir/$component

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi

# -modcacherw: the module cache can be removed with rm -rf. It replaces the
# user's GOFLAGS, which are meant for their own module, not for these builds.
export GOCACHE=$cache/go/build GOMODCACHE=$cache/go/mod GOFLAGS=-modcacherw
tmp=$dir/tmp
rm -rf "$tmp"
mkdir -p "$tmp"

case $component in
temporal)
	GOBIN=$tmp go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_VERSION"
	;;
jaeger)
	# `go install jaeger@version` refuses a module whose go.mod has a replace
	# directive, so build it from a tools module that copies that replace.
	mkdir "$tmp/tools"
	cd "$tmp/tools"
	go mod init agentloop.test/jaeger-tools
	go mod edit -replace github.com/Shopify/sarama=github.com/Shopify/sarama@v1.33.0
	go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION"
	go build -o "$tmp/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
	cd "$dir"
	;;
esac

mv "$tmp/$component" "$bin"
rm -rf "$tmp"
echo "$bin"
