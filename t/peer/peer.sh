# t/peer/peer.sh: scripted peer clients for the interop tests, sourced after
# t/lib.sh.  A peer is a long-running process (t/peer/jspeer.mjs on
# matrix-js-sdk with its Rust crypto, or t/peer/niopeer.py on matrix-nio in
# the Synapse chroot) that reads JSON commands on stdin and writes JSON
# lines on stdout: {"ready":...} once, one {"id":N,"ok":...} per command,
# and {"event":"message"|"member"|"invite",...} as things happen.
#
#   peer_need KIND                          at the top, before any test:
#                                           skip the script when this
#                                           machine cannot run a KIND peer
#   peer_start NAME KIND USER_ID PASSWORD   start it (KIND js or nio; at the
#                                           top level, as `setup peer_start`);
#                                           sets NAME_device, NAME_curve,
#                                           NAME_ed
#   peer_do NAME JSON                       run a command, print the answer
#   peer_wait NAME JQ_FILTER [TIMEOUT]      first output line the filter
#                                           selects, waiting up to TIMEOUT s
#   peer_count NAME JQ_FILTER               how many lines it selects so far
#   peer_stop NAME                          quit (also done at exit)

PEER_TIMEOUT=${PEER_TIMEOUT:-60}
_peers=
_peer_kinds=
# peer_do's command ids, counted in a file: peer_do runs inside tests,
# whose variables do not outlive them.
echo 0 >"$TRASH/.peer-id"

# The chroot that holds python3-matrix-nio (see t/synapse/provision.sh).
: "${MX_TEST_CHROOT:=/var/cache/mx-test/sid}"

peer_need() {
	case $1 in
	js)
		# Node >= 20 and the packages of package-lock.json
		_cache=$(sh "$MX_SRC/t/peer/provision.sh" 2>peer-provision.err)
		case $? in
		0) ;;
		77) skip_all "no Node 20 for the js peer: $(cat peer-provision.err)" ;;
		*) cat peer-provision.err >&2
		   setup_failed "cannot install the js peer (t/peer/provision.sh)" ;;
		esac
		# ES modules resolve packages next to the script: run a copy here.
		cp "$MX_SRC/t/peer/jspeer.mjs" jspeer.mjs
		ln -sfn "$_cache/node_modules" node_modules
		;;
	nio)
		[ -d "$MX_TEST_CHROOT/usr/lib/python3/dist-packages/nio" ] ||
			skip_all "no matrix-nio in $MX_TEST_CHROOT"
		;;
	*)
		setup_failed "peer_need: unknown kind '$1'" ;;
	esac
	_peer_kinds="$_peer_kinds $1"
}

peer_start() {
	_n=$1 _kind=$2 _user=$3 _pw=$4
	if [ -n "${_in_test:-}" ]; then
		# a peer outlives its test only when the script's shell holds it
		echo "peer_start: start peers at the top level, not in a test" >&2
		return 1
	fi
	case " $_peer_kinds " in
	*" $_kind "*) ;;
	*) echo "peer_start: call peer_need $_kind first" >&2; return 1 ;;
	esac
	rm -f "$_n.in" "$_n.out" "$_n.err"
	mkfifo "$_n.in"
	: >"$_n.out"
	case $_kind in
	js)
		PEER_HS=$MX_TEST_HOMESERVER PEER_USER=$_user PEER_PASSWORD=$_pw \
			PEER_DEVICE_NAME="jspeer $_n" \
			node jspeer.mjs <"$_n.in" >"$_n.out" 2>"$_n.err" &
		;;
	nio)
		_tmp=/tmp/mx-niopeer-$$-$_n
		cp "$MX_SRC/t/peer/niopeer.py" "$MX_TEST_CHROOT$_tmp.py"
		rm -rf "$MX_TEST_CHROOT$_tmp.store"
		mkdir -p "$MX_TEST_CHROOT$_tmp.store"
		chroot "$MX_TEST_CHROOT" env PEER_HS="$MX_TEST_HOMESERVER" \
			PEER_USER="$_user" PEER_PASSWORD="$_pw" \
			PEER_DEVICE_NAME="niopeer $_n" PEER_STORE="$_tmp.store" \
			python3 "$_tmp.py" <"$_n.in" >"$_n.out" 2>"$_n.err" &
		;;
	*)
		echo "peer_start: unknown kind '$_kind'" >&2
		return 1 ;;
	esac
	eval "_peer_pid_$_n=\$! _peer_kind_$_n=$_kind"
	_peer_next_fd=$((${_peer_next_fd:-2} + 1))
	[ $_peer_next_fd -le 9 ] || { echo "peer_start: too many peers" >&2; return 1; }
	eval "_peer_fdno_$_n=$_peer_next_fd"
	# Hold the fifo open for writing, so the peer sees one long stdin.
	eval "exec $_peer_next_fd>\"\$_n.in\""
	_peers="$_peers $_n"
	_l=$(peer_wait "$_n" 'select(.ready)' 120) || {
		echo "peer_start: $_n did not come up; its stderr:" >&2
		tail -20 "$_n.err" >&2
		return 1
	}
	eval "${_n}_device=\$(printf '%s' \"\$_l\" | jq -r .device_id)"
	eval "${_n}_curve=\$(printf '%s' \"\$_l\" | jq -r .curve25519)"
	eval "${_n}_ed=\$(printf '%s' \"\$_l\" | jq -r .ed25519)"
}

# Each peer's fifo is held open on its own descriptor, 3 to 9 (the most
# a POSIX shell's redirections can name).
_peer_fd() {
	eval "echo \${_peer_fdno_$1:-}"
}

peer_wait() {
	_n=$1 _f=$2 _t=${3:-$PEER_TIMEOUT}
	_end=$(($(date +%s) + _t))
	while :; do
		_l=$(jq -c "$_f" "$_n.out" 2>/dev/null | head -n 1)
		if [ -n "$_l" ]; then
			printf '%s\n' "$_l"
			return 0
		fi
		if [ "$(date +%s)" -ge "$_end" ]; then
			echo "peer_wait: $_n: nothing matched $_f in ${_t}s" >&2
			return 1
		fi
		sleep 0.2
	done
}

peer_count() {
	jq -c "$2" "$1.out" 2>/dev/null | wc -l | tr -d ' '
}

peer_do() {
	_n=$1
	_id=$(($(cat "$TRASH/.peer-id") + 1))
	echo $_id >"$TRASH/.peer-id"
	printf '%s\n' "$2" | jq -c --argjson id "$_id" '. + {id: $id}' \
		>&"$(_peer_fd "$_n")" || return 1
	_a=$(peer_wait "$_n" "select(.id == $_id)") || return 1
	printf '%s\n' "$_a"
	if [ "$(printf '%s' "$_a" | jq -r .ok)" != true ]; then
		echo "peer_do: $_n: $(printf '%s' "$_a" | jq -r .error)" >&2
		return 1
	fi
}

# peer_path NAME FILE: FILE as the peer NAME sees it (the nio peer lives in
# the chroot: the file is copied there).
peer_path() {
	case " $(eval "echo \${_peer_kind_$1:-}") " in
	" nio ")
		_d=/tmp/mx-niopeer-$$-$1.files
		mkdir -p "$MX_TEST_CHROOT$_d"
		cp "$2" "$MX_TEST_CHROOT$_d/"
		echo "$_d/$(basename "$2")" ;;
	*)
		echo "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")" ;;
	esac
}

peer_stop() {
	_n=$1
	case " $_peers " in *" $_n "*) ;; *) return 0 ;; esac
	peer_do "$_n" '{"cmd":"quit"}' >/dev/null 2>&1 || :
	eval "exec $(_peer_fd "$_n")>&-"
	eval "_pid=\$_peer_pid_$_n"
	_i=0
	while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill "$_pid" 2>/dev/null || :
	# chroot's child may outlive it: end the nio peer by its script name
	pkill -f "mx-niopeer-$$-$_n" 2>/dev/null || :
	wait "$_pid" 2>/dev/null || :
	_peers=$(printf '%s\n' $_peers | grep -vx "$_n" | tr '\n' ' ')
}

_peer_cleanup() {
	for _p in $_peers; do
		peer_stop "$_p"
	done
	rm -rf "$MX_TEST_CHROOT/tmp/mx-niopeer-$$-"* 2>/dev/null || :
	stop_fake
}
trap _peer_cleanup EXIT
