#!/usr/bin/env bash
# ./test.sh runs every test of every Go module in this repository against the
# real components the integration tests use, the same run as CI (.ci/run):
#
#   - installs the components it lacks: the Temporal CLI (its dev server) and
#     Jaeger v2, built from Go modules into a cache directory and reused;
#     PostgreSQL and Chromium from Debian's packages; the npm MCP servers
#     (.ci/mcp/install.sh);
#   - starts a Temporal dev server and a throw-away PostgreSQL cluster on
#     127.0.0.1, checks that each component answers, and stops them all when
#     it ends, also on failure or Ctrl-C;
#   - runs go vet and go test -race in every module, with the components'
#     addresses in the environment so that no integration test skips.
#
# Usage:
#   ./test.sh                  everything
#   ./test.sh --quick          no components, no -race: go test ./... in every module
#   ./test.sh [go test args]   components up, then go test -race ARGS in the root
#                              module only (e.g. -run TestX ./agent; -C temporal ./...
#                              for a nested module)
#
# Environment:
#   AGENTLOOP_CACHE     where components are built and kept
#                       (default ${XDG_CACHE_HOME:-$HOME/.cache}/agentloop)
#   AGENTLOOP_CHROMIUM  a browser to use instead of Debian's chromium
#
# Exported to the tests:
#   AGENTLOOP_TEMPORAL_ADDR   host:port of the running Temporal dev server
#   AGENTLOOP_TEMPORAL_CLI    the temporal binary (testsuite.StartDevServer's ExistingPath)
#   AGENTLOOP_POSTGRES_URL    postgres:// URL of an empty database, superuser
#   AGENTLOOP_JAEGER          the jaeger binary; a test starts its own with
#   AGENTLOOP_JAEGER_CONFIG   this config (its ports come from the environment:
#                             see .ci/components/jaeger.yaml)
#   AGENTLOOP_CHROMIUM        the browser
#   AGENTLOOP_REQUIRE_MCP_SERVERS=1
set -euo pipefail
cd "$(dirname "$0")"
repo=$PWD
components=$repo/.ci/components

quick=0
args=()
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) args+=("$a") ;;
	esac
done

fail() {
	echo "test.sh: $*" >&2
	exit 1
}

command -v go >/dev/null || fail "go is not on PATH; install Go (see go.mod for the version)"

# ---- timing: one line per phase, a table at the end --------------------------

phase_name=
phase_start=0
timings=()
run_start=${EPOCHREALTIME/./}

tenths() { # microseconds → "12.3s"
	local d=$(($1 / 100000))
	printf '%d.%ds' $((d / 10)) $((d % 10))
}

end_phase() {
	[ -n "$phase_name" ] || return 0
	local took
	took=$(tenths $((${EPOCHREALTIME/./} - phase_start)))
	echo "-- $phase_name: $took"
	timings+=("$(printf '  %-44s %8s' "$phase_name" "$took")")
	phase_name=
}

phase() {
	end_phase
	phase_name=$1
	phase_start=${EPOCHREALTIME/./}
	echo "== $1"
}

print_timings() {
	end_phase
	[ ${#timings[@]} -gt 0 ] || return 0
	echo "test.sh timings:"
	printf '%s\n' "${timings[@]}"
	printf '  %-44s %8s\n' total "$(tenths $((${EPOCHREALTIME/./} - run_start)))"
}

# ---- Go modules --------------------------------------------------------------

cache=${AGENTLOOP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agentloop}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Every directory with a go.mod, except test data, node_modules and the cache.
modules=()
while IFS= read -r m; do
	modules+=("${m%/go.mod}")
done < <(find . \( -name .git -o -name node_modules -o -name testdata -o -path "./${cache#"$repo"/}" \) -prune \
	-o -name go.mod -type f -print | sort)

# run_fg CMD... runs CMD in a process group of its own and waits for it, so
# that a signal to this script stops it at once: cleanup stops the group.
fg_pid=
run_fg() {
	local rc=0
	setsid "$@" &
	fg_pid=$!
	wait "$fg_pid" || rc=$?
	fg_pid=
	return $rc
}

# each_module runs go with the given arguments in every module, all of them
# even when one fails, and adds the failures to $failed.
failed=()
each_module() {
	local m
	for m in "${modules[@]}"; do
		echo "-- go -C $m $*"
		run_fg go -C "$m" "$@" || failed+=("go $1 in $m")
	done
}

report() {
	if [ ${#failed[@]} -gt 0 ]; then
		printf 'test.sh: FAIL: %s\n' "${failed[@]}" >&2
		exit 1
	fi
	echo "test.sh: PASS"
}

if [ $quick -eq 1 ]; then
	trap '[ -z "$fg_pid" ] || kill -TERM -- "-$fg_pid" 2>/dev/null; print_timings' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	if [ ${#args[@]} -gt 0 ]; then
		phase "go test ${args[*]}"
		run_fg go test "${args[@]}" || failed+=("go test ${args[*]}")
	else
		phase "go test (${#modules[@]} modules)"
		each_module test ./...
	fi
	report
	exit 0
fi

# ---- helpers -----------------------------------------------------------------

run=$(mktemp -d "${TMPDIR:-/tmp}/agentloop-test.XXXXXX")

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		fail "need root to run: $*; run that yourself, then ./test.sh again"
	fi
}

# free_port sets REPLY to a loopback port that nothing listens on, below the
# ephemeral range and not handed out before in this run.
handed_out=" "
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		case $handed_out in *" $p "*) continue ;; esac
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			handed_out+="$p "
			REPLY=$p
			return
		fi
	done
}

# http_ok HOST:PORT PATH succeeds when GET PATH answers 200.
http_ok() (
	exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$2" "$1" >&3
	IFS= read -r -t 5 line <&3 || exit 1 # connecting to 127.0.0.1 does not hang
	[[ $line == HTTP/1.?" 200"* ]]
)

alive() { # the process exists and is not a zombie
	[ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# wait_ready SECONDS NAME PID LOG CMD... runs CMD until it succeeds; fails
# with the log when PID dies or time is up. CMD must not hang: bound it.
wait_ready() {
	local secs=$1 name=$2 pid=$3 log=$4 deadline=$((SECONDS + $1))
	shift 4
	until "$@" >/dev/null 2>&1; do
		if ! alive "$pid"; then
			cat "$log" >&2
			fail "$name exited before it was ready (its log is above)"
		fi
		if [ $SECONDS -ge $deadline ]; then
			tail -n 30 "$log" >&2
			fail "$name not ready after ${secs}s (the end of its log is above)"
		fi
		sleep 0.2
	done
}

# stop_group PID sends SIGTERM to the process group PID leads (started with
# setsid), SIGKILL after SECONDS, and reaps it.
stop_group() {
	local pid=$1 secs=${2:-15} i
	kill -TERM -- "-$pid" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Started here, stopped by cleanup.
bg_pids=()       # builds and npm, each leading its process group
temporal_pid=
jaeger_pid=
pg_data=
pg_as=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	[ -n "$fg_pid" ] && stop_group "$fg_pid" 10
	[ -n "$temporal_pid" ] && stop_group "$temporal_pid"
	[ -n "$jaeger_pid" ] && stop_group "$jaeger_pid"
	if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
		"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
			kill -KILL "$(head -n 1 "$pg_data/postmaster.pid")" 2>/dev/null
	fi
	for pid in "${bg_pids[@]}"; do
		alive "$pid" && stop_group "$pid" 5
	done
	rm -rf "$run"
	print_timings
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- install -------------------------------------------------------------------

phase "install components (cache $cache)"

# The Go-built ones take minutes cold: start them first, in the background.
build_pid=()
for c in temporal jaeger; do
	setsid "$components/build.sh" "$c" "$cache" >"$run/build-$c.log" 2>&1 &
	bg_pids+=($!)
	build_pid+=($!)
done

find_initdb() {
	pg_bin=
	if command -v initdb >/dev/null; then
		pg_bin=$(dirname "$(readlink -f "$(command -v initdb)")")
	else
		local d
		d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
		[ -n "$d" ] && [ -x "$d/initdb" ] && pg_bin=$d
	fi
	[ -n "$pg_bin" ]
}

chromium=${AGENTLOOP_CHROMIUM:-$(command -v chromium || true)}
packages=()
find_initdb || packages+=(postgresql)
[ -n "$chromium" ] || packages+=(chromium)
command -v npm >/dev/null || packages+=(nodejs npm)
if [ ${#packages[@]} -gt 0 ]; then
	command -v apt-get >/dev/null || fail "missing ${packages[*]}: install them (no apt-get here)"
	echo "-- apt-get install ${packages[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >"$run/apt.log" 2>&1 ||
		{ tail -n 30 "$run/apt.log" >&2; fail "apt-get install ${packages[*]} failed"; }
	find_initdb || fail "PostgreSQL installed but no initdb found in /usr/lib/postgresql/*/bin"
	chromium=${AGENTLOOP_CHROMIUM:-$(command -v chromium || true)}
	[ -n "$chromium" ] || fail "chromium installed but not on PATH"
fi

# npm ci reinstalls from scratch; skip it when node_modules matches the lock.
mcp=$repo/.ci/mcp
npm_pid=
if [ ! -f "$mcp/node_modules/.package-lock.json" ] || [ "$mcp/package-lock.json" -nt "$mcp/node_modules/.package-lock.json" ]; then
	setsid "$mcp/install.sh" >"$run/npm.log" 2>&1 &
	npm_pid=$!
	bg_pids+=($!)
fi

# ---- PostgreSQL ------------------------------------------------------------------

phase "start PostgreSQL"
# initdb refuses to run as root: as root, the cluster belongs to the postgres
# user, in a directory of its own inside the run directory.
pg_dir=$run/pg
mkdir -m 700 "$pg_dir"
if [ "$(id -u)" -eq 0 ]; then
	id postgres >/dev/null 2>&1 || fail "no postgres user to run PostgreSQL as (Debian's postgresql package creates it)"
	chmod 755 "$run"
	chown postgres: "$pg_dir"
	pg_as=(runuser -u postgres --)
fi
"${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres -E UTF8 --no-sync >"$run/initdb.log" 2>&1 ||
	{ cat "$run/initdb.log" >&2; fail "initdb failed"; }
pg_data=$pg_dir/data
free_port
pg_port=$REPLY
"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_dir/log" -w -t 30 \
	-o "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_dir -c fsync=off" start >/dev/null ||
	{ cat "$pg_dir/log" >&2; fail "PostgreSQL did not start (its log is above)"; }
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres agentloop
export AGENTLOOP_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/agentloop?sslmode=disable"
psql=$(command -v psql || echo "$pg_bin/psql")
[ "$("$psql" "$AGENTLOOP_POSTGRES_URL" -tAc 'select 1')" = 1 ] ||
	fail "PostgreSQL is up but select 1 through $AGENTLOOP_POSTGRES_URL failed"
echo "PostgreSQL $("$psql" "$AGENTLOOP_POSTGRES_URL" -tAc 'show server_version') at $AGENTLOOP_POSTGRES_URL"

# ---- Chromium -------------------------------------------------------------------

phase "check Chromium"
# --no-sandbox: Chromium's sandbox does not run as root.
page=$(timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --user-data-dir="$run/chromium" \
	--dump-dom 'data:text/html,<p>agentloop%20chromium%20ok</p>' 2>"$run/chromium.log") || true
[[ $page == *"agentloop chromium ok"* ]] ||
	{ tail -n 20 "$run/chromium.log" >&2; fail "$chromium did not render a page (the end of its log is above)"; }
export AGENTLOOP_CHROMIUM=$chromium
echo "$("$chromium" --version 2>/dev/null) at $chromium"

# ---- go vet, while the builds go on ------------------------------------------------

if [ ${#args[@]} -eq 0 ]; then
	phase "go vet (${#modules[@]} modules)"
	each_module vet ./...
fi

if [ -n "$npm_pid" ]; then
	phase "npm MCP servers"
	wait "$npm_pid" || { cat "$run/npm.log" >&2; fail ".ci/mcp/install.sh failed (its output is above)"; }
fi
export AGENTLOOP_REQUIRE_MCP_SERVERS=1

phase "build Temporal CLI and Jaeger"
i=0
for c in temporal jaeger; do
	wait "${build_pid[$i]}" ||
		{ tail -n 40 "$run/build-$c.log" >&2; fail "building $c failed (the end of its log is above)"; }
	i=$((i + 1))
done
"$components/build.sh" clean "$cache"
AGENTLOOP_TEMPORAL_CLI=$(tail -n 1 "$run/build-temporal.log")
AGENTLOOP_JAEGER=$(tail -n 1 "$run/build-jaeger.log")
export AGENTLOOP_TEMPORAL_CLI AGENTLOOP_JAEGER
export AGENTLOOP_JAEGER_CONFIG=$components/jaeger.yaml

# ---- Temporal -------------------------------------------------------------------------

phase "start Temporal dev server"
free_port
t_port=$REPLY
free_port
t_http=$REPLY
free_port
t_metrics=$REPLY
setsid "$AGENTLOOP_TEMPORAL_CLI" server start-dev --ip 127.0.0.1 --headless --port "$t_port" \
	--http-port "$t_http" --metrics-port "$t_metrics" --log-level warn >"$run/temporal.log" 2>&1 &
temporal_pid=$!
export AGENTLOOP_TEMPORAL_ADDR=127.0.0.1:$t_port
wait_ready 60 "Temporal dev server" "$temporal_pid" "$run/temporal.log" \
	timeout 5 "$AGENTLOOP_TEMPORAL_CLI" operator cluster health --address "$AGENTLOOP_TEMPORAL_ADDR"
namespaces=$(timeout 10 "$AGENTLOOP_TEMPORAL_CLI" operator namespace list --address "$AGENTLOOP_TEMPORAL_ADDR") ||
	fail "temporal operator namespace list --address $AGENTLOOP_TEMPORAL_ADDR failed"
[[ $namespaces == *default* ]] || fail "Temporal at $AGENTLOOP_TEMPORAL_ADDR lists no default namespace"
echo "Temporal dev server at $AGENTLOOP_TEMPORAL_ADDR ($AGENTLOOP_TEMPORAL_CLI)"

# ---- Jaeger: tests start their own; check that one starts, answers and stops -------------

phase "check Jaeger"
for v in OTLP_GRPC OTLP_HTTP QUERY_HTTP QUERY_GRPC HEALTH; do
	free_port
	printf -v "j_$v" '127.0.0.1:%s' "$REPLY"
done
AGENTLOOP_JAEGER_OTLP_GRPC=$j_OTLP_GRPC AGENTLOOP_JAEGER_OTLP_HTTP=$j_OTLP_HTTP \
	AGENTLOOP_JAEGER_QUERY_HTTP=$j_QUERY_HTTP AGENTLOOP_JAEGER_QUERY_GRPC=$j_QUERY_GRPC \
	AGENTLOOP_JAEGER_HEALTH=$j_HEALTH \
	setsid "$AGENTLOOP_JAEGER" --config "file:$AGENTLOOP_JAEGER_CONFIG" >"$run/jaeger.log" 2>&1 &
jaeger_pid=$!
wait_ready 30 Jaeger "$jaeger_pid" "$run/jaeger.log" http_ok "$j_HEALTH" /status
http_ok "$j_QUERY_HTTP" /api/services || fail "Jaeger is healthy but its query API at $j_QUERY_HTTP/api/services is not"
jaeger_stop=${EPOCHREALTIME/./}
stop_group "$jaeger_pid"
jaeger_pid=
echo "Jaeger started, answered and stopped in $(tenths $((${EPOCHREALTIME/./} - jaeger_stop))) ($AGENTLOOP_JAEGER)"

# ---- tests ------------------------------------------------------------------------------

if [ ${#args[@]} -gt 0 ]; then
	phase "go test -race ${args[*]}"
	if [ "${args[0]}" = -C ] && [ ${#args[@]} -ge 2 ]; then # go wants -C first
		args=(-C "${args[1]}" -race "${args[@]:2}")
	else
		args=(-race "${args[@]}")
	fi
	run_fg go test "${args[@]}" || failed+=("go test ${args[*]}")
else
	phase "go test -race (${#modules[@]} modules)"
	each_module test -race ./...
fi
end_phase
report
