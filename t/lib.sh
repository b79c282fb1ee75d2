# t/lib.sh: sourced by every shell test (t/NNNN-name.t).  Gives each test
# script a fresh trash directory as its working directory (HOME and MX_DIR
# inside it), the freshly built binaries first on PATH, git-style test
# helpers producing TAP, and helpers that talk to the test homeserver
# ($MX_TEST_HOMESERVER, started by t/with-synapse).

set -u
TEST_NAME=$(basename "$0" .t)
MX_SRC=$(cd "$(dirname "$0")/.." && pwd)
PATH=$MX_SRC:$PATH
# mx-bridge-check's patterns as shipped, not as installed (mx-bridge-check(1)).
MX_BRIDGE_PATTERNS=$MX_SRC/data/bridge-patterns
export MX_BRIDGE_PATTERNS
TRASH=$MX_SRC/t/trash.$TEST_NAME
rm -rf "$TRASH"
mkdir -p "$TRASH/home"
cd "$TRASH" || exit 1
HOME=$TRASH/home
MX_DIR=$TRASH/mx
export PATH HOME MX_DIR
# make check's own variables too: an example that runs make must not
# see a sub-make.
unset MAKEFLAGS MAKELEVEL MFLAGS MAKEOVERRIDES 2>/dev/null || :
unset MX_ACCESS_TOKEN MX_HOMESERVER MX_PROFILE MX_IDENTITY XDG_DATA_HOME \
	2>/dev/null || :
test_count=0
test_failed=0

# Print the captured output of a failed test as TAP comments.
_test_show() {
	sed 's/^/# /' "$TRASH/.test-out" >&2
}

# test_expect_success 'description' 'commands': the commands run in a
# subshell, so that `exit 1` or `return 1` in them is reported as a failure
# like any other, and nothing they set reaches a later test: what several
# tests share is made at the top level (setup, below) or kept in files of
# the trash directory.  Their status decides.
test_expect_success() {
	test_count=$((test_count + 1))
	if (_in_test=1; eval "$2") >"$TRASH/.test-out" 2>&1 </dev/null; then
		printf 'ok %d - %s\n' "$test_count" "$1"
		[ -n "${MX_TEST_VERBOSE:-}" ] && _test_show
	else
		printf 'not ok %d - %s\n' "$test_count" "$1"
		test_failed=$((test_failed + 1))
		_test_show
	fi
	return 0
}

# test_must_fail CMD...: CMD must fail in an orderly way: a non-zero exit
# status that is neither "not found" (126/127) nor a signal (> 128).
test_must_fail() {
	"$@"
	_st=$?
	if [ $_st -eq 0 ]; then
		echo "test_must_fail: '$*' succeeded" >&2
		return 1
	elif [ $_st -gt 125 ]; then
		echo "test_must_fail: '$*' died with status $_st" >&2
		return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD must exit with status N.
test_expect_code() {
	_want=$1
	shift
	"$@"
	_st=$?
	[ $_st -eq "$_want" ] && return 0
	echo "test_expect_code: '$*' exited $_st, wanted $_want" >&2
	return 1
}

# test_cmp EXPECTED ACTUAL
test_cmp() {
	diff -u "$1" "$2"
}

test_skip() {
	test_count=$((test_count + 1))
	printf 'ok %d # skip %s\n' "$test_count" "$1"
}

# skip_all REASON: nothing in this script can run here: the plan says so
# ("1..0 # SKIP REASON") and the script ends.  Only at the top level and
# before the first test: anywhere else it would hide tests, so it fails.
skip_all() {
	if [ -n "${_in_test:-}" ]; then
		echo "skip_all inside a test: skip at the top level ($1)" >&2
		exit 1
	fi
	[ $test_count -eq 0 ] ||
		setup_failed "skip_all once tests have run: $1"
	echo "1..0 # SKIP $1"
	exit 0
}

# setup_failed REASON: a set-up step outside the tests failed, so every
# test after it could only fail for that reason: report it as a failed
# test named after the step, say so on stderr, and end the script with a
# non-zero status.  For `var=$(CMD) || setup_failed "what CMD did"`.
setup_failed() {
	if [ -n "${_in_test:-}" ]; then
		echo "setup_failed inside a test: $1" >&2
		exit 1
	fi
	test_count=$((test_count + 1))
	printf 'not ok %d - set-up: %s\n' "$test_count" "$1"
	echo "$TEST_NAME: set-up failed: $1" >&2
	echo "1..$test_count"
	exit 1
}

# setup CMD...: run a set-up step outside the tests (register_user,
# login_profile, peer_start, ...), whose output is not wanted (it is kept
# in .setup-out, and shown if the step fails); setup_failed if it fails.
# Take the output a later step needs with `x=$(CMD) || setup_failed ...`.
setup() {
	"$@" >"$TRASH/.setup-out" && return 0
	sed 's/^/# /' "$TRASH/.setup-out"
	setup_failed "$*"
}

test_done() {
	echo "1..$test_count"
	[ $test_failed -eq 0 ] || exit 1
	exit 0
}

# --- the test homeserver ---------------------------------------------------

need_homeserver() {
	[ -n "${MX_TEST_HOMESERVER:-}" ] ||
		skip_all "no test homeserver (run through t/with-synapse)"
}

_uniq=0
# register_user NAME: a fresh user; sets NAME_id, NAME_token, NAME_pw,
# NAME_device (the device of the registration's session).
register_user() {
	_uniq=$((_uniq + 1))
	_local=$(printf '%s-%s-%s-%s' "$1" "$$" "$_uniq" \
		"$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')")
	_pw=pw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
	_r=$(python3 "$MX_SRC/t/synapse/register.py" "$MX_TEST_HOMESERVER" \
		"$MX_TEST_SHARED_SECRET" "$_local" "$_pw") || return 1
	set -- "$1" $_r
	eval "$1_id=\$2 $1_token=\$3 $1_device=\$4 $1_pw=\$_pw"
}

# login_profile NAME [mx-keys login options]: log NAME in with mx-keys into
# the profile named NAME.
login_profile() {
	_n=$1
	shift
	eval "printf '%s\n' \"\$${_n}_pw\"" |
		mx-keys -p "$_n" login --homeserver "$MX_TEST_HOMESERVER" \
			-u "$(eval "echo \$${_n}_id")" --password-stdin "$@"
}

# api TOKEN METHOD PATH [JSON]: a client-server request with curl; prints
# the body, fails on an HTTP error.  The token goes through stdin, not argv.
api() {
	_tok=$1 _m=$2 _p=$3
	shift 3
	printf 'header = "Authorization: Bearer %s"\n' "$_tok" |
		curl -sS --fail-with-body -K - -X "$_m" \
			-H 'Content-Type: application/json' \
			${1+--data-binary "$1"} "$MX_TEST_HOMESERVER$_p"
}

# create_room TOKEN [JSON]: prints the new room id.
create_room() {
	_a=$(api "$1" POST /_matrix/client/v3/createRoom "${2:-{\}}") &&
		printf '%s\n' "$_a" | jq -er .room_id
}

_txn=0
# send_text TOKEN ROOM TEXT: an m.room.message through curl; prints its id.
send_text() {
	_txn=$((_txn + 1))
	_a=$(api "$1" PUT "/_matrix/client/v3/rooms/$(urlenc "$2")/send/m.room.message/t$$-$_txn-$(date +%s%N)" \
		"$(jq -nc --arg b "$3" '{msgtype:"m.text",body:$b}')") &&
		printf '%s\n' "$_a" | jq -er .event_id
}

# start_fake SCENARIO [fakehs options]: a fault-injecting fake homeserver
# (t/fakehs.py) on a free loopback port; sets FAKE (its base URL) and
# FAKE_PORT; the requests it receives are logged in fake.log.  stop_fake
# ends it; so does the next start_fake, and the end of the script.  Its
# process id is kept in a file, so that a fake started in one test can be
# stopped by another.
start_fake() {
	stop_fake
	rm -f fake.log fake.port
	python3 "$MX_SRC/t/fakehs.py" --log fake.log "$@" >fake.port &
	echo $! >"$TRASH/.fake-pid"
	_i=0
	while [ ! -s fake.port ] && [ $_i -lt 400 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	FAKE_PORT=$(head -1 fake.port)
	[ -n "$FAKE_PORT" ] || { echo "start_fake: no port from fakehs.py" >&2; return 1; }
	FAKE=http://127.0.0.1:$FAKE_PORT
	: >fake.log
}
stop_fake() {
	[ -s "$TRASH/.fake-pid" ] || return 0
	_fp=$(cat "$TRASH/.fake-pid")
	rm -f "$TRASH/.fake-pid"
	kill "$_fp" 2>/dev/null || return 0
	# Reap it if this shell started it; else (a fake started in an
	# earlier test, whose shell is gone) wait until it is dead: a zombie
	# waiting for its new parent to reap it counts as dead.
	wait "$_fp" 2>/dev/null
	_i=0
	while [ $_i -lt 50 ]; do
		case $(ps -o stat= -p "$_fp" 2>/dev/null) in
		"" | Z*) break ;;
		esac
		sleep 0.1
		_i=$((_i + 1))
	done
	return 0
}
trap stop_fake EXIT

# urlenc STRING: percent-encode for one path segment.
urlenc() {
	printf '%s' "$1" | jq -sRr @uri
}

