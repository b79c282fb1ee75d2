# t/verify.sh: helpers of mx-verify's interop tests, sourced after t/lib.sh
# and t/peer/peer.sh.
#
#   verify_bg NAME PROFILE TIMEOUT ARGS...   mx-verify -v --json sas ARGS in
#                                            the background: stdin the fifo
#                                            NAME.in (the caller holds it
#                                            open on descriptor 7), stdout
#                                            NAME.out, stderr NAME.err, exit
#                                            status NAME.rc
#   wait_line FILE JQ_FILTER                 the first line of FILE the
#                                            filter selects (up to 60 s)
#   wait_rc FILE                             the exit status written there
#                                            (up to 90 s)
#   wait_grep FILE TEXT                      until FILE holds TEXT (60 s)
#   same_emoji MXLINE PEERLINE               both show the same 7 emoji

verify_bg() {
	_n=$1 _p=$2 _t=$3
	shift 3
	rm -f "$_n.in" "$_n.out" "$_n.rc" "$_n.err"
	mkfifo "$_n.in"
	{ mx-verify -v -p "$_p" --json --timeout "$_t" sas "$@" <"$_n.in" >"$_n.out" 2>"$_n.err"; echo $? >"$_n.rc"; } &
}

wait_line() {
	_i=0
	while [ $_i -lt 300 ]; do
		_l=$(jq -c "$2" "$1" 2>/dev/null | head -n 1)
		[ -n "$_l" ] && { printf '%s\n' "$_l"; return 0; }
		sleep 0.2
		_i=$((_i + 1))
	done
	echo "wait_line: nothing matched $2 in $1" >&2
	return 1
}

wait_rc() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 450 ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	cat "$1"
}

wait_grep() {
	_i=0
	while ! grep -qF "$2" "$1" 2>/dev/null && [ $_i -lt 300 ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	grep -F "$2" "$1"
}

same_emoji() {
	_a=$(printf '%s' "$1" | jq -c "[.emoji[].name]") &&
	_b=$(printf '%s' "$2" | jq -c "[.emoji[].name]") &&
	echo "mx: $_a peer: $_b" &&
	test "$(printf '%s' "$_a" | jq length)" = 7 && test "$_a" = "$_b"
}
