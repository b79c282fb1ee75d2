#!/bin/sh
# Every example of the manual runs, as jq's manual does: each literal
# display of man/*.1 and man/mx.7 whose first line is a "$ " command, as a
# reader sees it rendered, with the placeholders a reader would replace
# (example.org users, rooms and homeserver, the files it names) replaced by
# real ones on the test homeserver.  The pages' examples run in order, each
# page in a directory and profiles of its own, so that one example may
# build on the one before, as a reader would.  Each example is listed below
# by its page and first line with the function that prepares, runs and
# checks it; one that cannot run here is listed with "skip: why".  An
# example missing from the list, or listed and gone from the pages, fails.
. "${0%/*}/lib.sh"
need_homeserver

cat >table <<\EOT
bc_table	mx-bridge-check.1: $ mx-bridge-check --table '!abc:example.org'
bc_all	mx-bridge-check.1: $ mx-bridge-check --all | jq -r 'select(.check == "bridge") |
bc_ci	mx-bridge-check.1: $ cat accepted
bc_post	mx-bridge-check.1: $ mx-bridge-check '#ops:example.org' |
bc_watch	mx-bridge-check.1: $ mx-bridge-check --watch '#ops:example.org' |
bc_ping	mx-bridge-check.1: $ export MX_HOMESERVER=https://matrix.example.org
keys_login	mx-keys.1: $ mx-keys login -u @ops:example.org
keys_bot	mx-keys.1: $ mx-keys -p bot login -u alertbot \
keys_token	mx-keys.1: $ printf '%s\n' "$CI_MATRIX_TOKEN" |
keys_whoami	mx-keys.1: $ mx-keys -p bot whoami | jq -r .user_id
keys_env	mx-keys.1: $ MX_HOMESERVER=https://matrix.example.org MX_ACCESS_TOKEN="$TOKEN" \
keys_audit	mx-keys.1: $ mx-keys devices --room '#ops:example.org' \
keys_force	mx-keys.1: $ mx-keys -p bot logout
keys_export	mx-keys.1: $ mx-keys export -o room-keys.txt
keys_delete	mx-keys.1: $ mx-keys delete "$(mx-keys -p laptop whoami | jq -r .device_id)"
keys_prune	mx-keys.1: $ mx-keys delete --older-than 90 --dry-run | jq -r .device_id
keys_bk_create	mx-keys.1: $ mx-keys -p ci backup create | jq -r .recovery_key >ci-recovery.txt
keys_bk_status	mx-keys.1: $ mx-keys -p ci backup status | jq -c '{trusted, in_secret_storage}'
keys_bk_restore	mx-keys.1: $ mx-keys -p desk login -u @ci:example.org --password-stdin <ci.pw
room_create	mx-room.1: $ room=$(mx-room create --name 'Incident 42' \
room_list	mx-room.1: $ mx-room list | jq -r 'select(.name) | .name'
room_dm	mx-room.1: $ mx-room create --dm @bob:example.org | jq -r .alias
room_invite	mx-room.1: $ mx-room invite '#ops:example.org' @bob:example.org |
room_state	mx-room.1: $ echo '{"history_visibility":"joined"}' |
room_encrypt	mx-room.1: $ mx-room encrypt '#alerts:example.org'
room_power	mx-room.1: $ mx-room power '#ops:example.org' @ci:example.org 50
room_alias	mx-room.1: $ mx-room alias '!abc:example.org' add '#deploys:example.org'
room_leave	mx-room.1: $ mx-room leave --forget '#builds:example.org'
send_two	mx-send.1: $ mx-send '#ops:example.org' deploy finished
send_lines	mx-send.1: $ tail -f /var/log/app.log | mx-send --lines '#ops:example.org'
send_react	mx-send.1: $ id=$(mx-send -f report.pdf @bob:example.org | jq -r .event_id)
forward	mx-send.1: $ mx-sync -f '#ops:example.org' |
send_ci	mx-send.1: $ export MX_HOMESERVER=https://matrix.example.org
sync_follow	mx-sync.1: $ mx-sync -f '#ops:example.org' |
sync_limit	mx-sync.1: $ mx-sync --limit 20 --types m.room.message '#ops:example.org' |
sync_history	mx-sync.1: $ mx-sync --history '#ops:example.org' >ops.jsonl
skip: a person compares the emoji with another device	mx-verify.1: $ mx-verify sas @bob:example.org BOBDEVICE
skip: a person accepts in their Element; t/0805-verify-user.t runs it with the js peer	mx-verify.1: $ mx-verify sas @bob:example.org
skip: waits for a request from Element; t/0800-verify.t runs the flow	mx-verify.1: $ mx-verify --timeout 300 sas
skip: bash coproc with another device; t/0800-verify.t runs --json	mx-verify.1: $ coproc mx-verify --json sas @bob:example.org BOBDEVICE
skip: a real device and key; t/0801-verify-json.t runs fingerprint	mx-verify.1: $ mx-verify fingerprint @bob:example.org BOBDEVICE \
skip: names the server example.org; t/0801-verify-json.t runs it	mx-verify.1: $ curl -s https://matrix.example.org/_matrix/key/v2/server |
xs_setup	mx-verify.1: $ umask 077
skip: a person compares the emoji with their own Element session; t/0806-verify-session.t runs it with the js peer	mx-verify.1: $ mx-verify sas @me:example.org ELEMENTDEV
skip: needs secret storage set up by Element; t/0803-cross-signing-import.t runs it with the js peer	mx-verify.1: $ mx-verify cross-signing import --passphrase-file ~/.ssss-pass |
bot_seal	mx.7: $ mx-keys -p ci login -u @ci:example.org
bot_send	mx.7: $ export MX_IDENTITY="$CI_MATRIX_IDENTITY"
login_make	mx.7: $ mx-keys login -u @ci:example.org
forward	mx.7: $ mx-sync -f '#ops:example.org' |
ci_env	mx.7: $ export MX_HOMESERVER=https://matrix.example.org
EOT

# --- the examples, as rendered ----------------------------------------------

# extract PAGE DIR: each runnable example of PAGE into DIR/NN (01, 02, ...)
# as displayed, its key ("page: first line") into DIR/NN.key.
extract() {
	mandoc -Tutf8 "$1" | LC_ALL=C.UTF-8 col -bx |
		awk -v page="${1##*/}" -v dir="$2" '
		function indent(s) { match(s, /^ */); return RLENGTH }
		NF == 0 { blk = 0; next }
		!blk && indent($0) > 5 && substr($0, indent($0) + 1, 2) == "$ " {
			f = sprintf("%s/%02d", dir, ++n)
			base = indent($0)
			blk = 1
			print page ": " substr($0, base + 1) >(f ".key")
			close(f ".key")
		}
		blk && indent($0) < base { blk = 0 }
		blk { print substr($0, base + 1) >f }'
}

# commands FILE: the shell commands of an example ("$ " lines and their
# continuations); outputs FILE: what it shows the commands print.
commands() {
	awk 'cont || /^\$ / { sub(/^\$ /, ""); print; cont = /[\\|]$/ }' "$1"
}
outputs() {
	awk 'cont || /^\$ / { cont = /[\\|]$/; next } { print }' "$1"
}

# subst FILE: the placeholders of an example replaced by this page's users,
# rooms and homeserver.
subst() {
	_s=
	for _u in ops ci bob alertbot; do
		eval "_id=\$${_u}_id"
		_l=${_id%%:*}
		_s="$_s s|@$_u:example\\.org|$_id|g; s|-u $_u\\>|-u ${_l#@}|g;"
	done
	for _r in ops alerts builds deploys; do
		_s="$_s s|#$_r:example\\.org|$(alias_of $_r)|g;"
	done
	sed -e "$_s" \
		-e "s|!abc:example\\.org|$abc_room|g" \
		-e "s|https://matrix\\.example\\.org|$MX_TEST_HOMESERVER|g" \
		-e "s|@telegrambot:example\\.org|$bot|g" \
		-e "s|--servers example\\.org|--servers $MX_TEST_SERVER_NAME|g" \
		-e "s|--servers '\\*\\.example\\.org'|--servers '*.$MX_TEST_SERVER_NAME'|g" \
		-e "s|/var/log/app\\.log|app.log|g" "$1"
}

# --- running them -------------------------------------------------------------

# run FILE [NAME=VALUE...]: run an example's commands with sh -e in this
# environment and the one given, stdout to out, stderr to err; fails as
# it does.
run() {
	_f=$1
	shift
	commands "$_f" >"$_f.sh" && env "$@" sh -e "$_f.sh" >out 2>err
}

# A pseudo-terminal for examples a reader runs at a terminal: password and
# passphrase prompts answered with $TTY_PASSWORD and $TTY_STORE (empty
# by default: a key file), the last program of a pipeline line-buffered.
cat >onpty.py <<\EOT
import os, pty, re, select, signal, sys, termios, time
out, limit, argv = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
answers = [(b"password for ", os.environ.get("TTY_PASSWORD", "")),
           (b"passphrase ", os.environ.get("TTY_STORE", ""))]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
seen, pend, done, end, st = b"", b"", 0, time.time() + limit, None
with open(out, "wb") as f:
    while not stop and time.time() < end:
        if st is None:
            p, s = os.waitpid(pid, os.WNOHANG)
            if p:
                st, end = s, min(end, time.time() + 0.5)
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        # What the terminal shows, colours (jq's) aside; an escape cut in
        # two waits for its end.
        data, pend = pend + chunk, b""
        i = data.rfind(b"\x1b")
        if i >= 0 and not re.match(rb"\x1b\[[0-9;]*m", data[i:]):
            data, pend = data[:i], data[i:]
        f.write(re.sub(rb"\x1b\[[0-9;]*m", b"", data).replace(b"\r", b""))
        f.flush()
        # Answer a prompt once it shows with echo off.
        tail = seen[done:]
        for want, answer in answers:
            if (want in tail and tail.rstrip().endswith(b":") and
                    not termios.tcgetattr(fd)[3] & termios.ECHO):
                os.write(fd, answer.encode() + b"\n")
                done = len(seen)
                break
if st is None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass
        time.sleep(0.3)
        p, s = os.waitpid(pid, os.WNOHANG)
        if p:
            st = s
            break
    if st is None:
        _, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st) % 256)
EOT

# on_tty FILE [NAME=VALUE...]: run an example on a terminal; its screen
# in screen.
on_tty() {
	_f=$1
	shift
	commands "$_f" >"$_f.sh" &&
		env "$@" python3 "$TRASH/onpty.py" screen 60 sh -e "$_f.sh"
}

# tty_start FILE: start an example that runs until stopped (-f) on a
# terminal in the background; tty_running: it still runs; tty_stop: end it
# and every process it started.
TTY_PID=
tty_start() {
	commands "$1" >"$1.sh" || return 1
	python3 "$TRASH/onpty.py" screen 120 sh -e "$1.sh" &
	TTY_PID=$!
}
tty_running() { kill -0 "$TTY_PID" 2>/dev/null; }
tty_stop() {
	[ -n "$TTY_PID" ] || return 0
	kill "$TTY_PID" 2>/dev/null
	wait "$TTY_PID" 2>/dev/null
	TTY_PID=
	return 0
}
trap 'tty_stop; stop_fake' EXIT

# wait_for CMD...: CMD succeeds within 30 seconds.
wait_for() {
	_end=$(($(date +%s) + 30))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$_end" ] || { echo "timed out: $*"; return 1; }
		sleep 0.2
	done
}

# shows N FILE: FILE, a screen, shows N JSON lines.
shows() { [ "$(grep -c '^{' "$2")" = "$1" ]; }

# shape FILE: the lines of FILE, trailing blanks removed, each JSON object
# with its keys sorted and the values that differ from run to run starred.
shape() {
	sed 's/[[:space:]]*$//' "$1" | while IFS= read -r _l; do
		case $_l in
		'{'*) printf '%s\n' "$_l" | jq -cS 'with_entries(
			if (.key | IN("device_id", "event_id", "txn_id",
			    "homeserver")) then .value = "*" else . end)' ;;
		*) printf '%s\n' "$_l" ;;
		esac
	done
}

# shows_as WANT GOT: GOT prints what WANT, the page, shows.
shows_as() { shape "$1" >want.shape && shape "$2" >got.shape &&
	test_cmp want.shape got.shape; }

# bodies ROOM: the bodies of ROOM's last 100 messages, oldest first, as
# ops sees them.
bodies() {
	api "$ops_token" GET "/_matrix/client/v3/rooms/$(urlenc "$1")/messages?dir=b&limit=100" |
		jq -r '[.chunk[] | select(.type == "m.room.message")] |
			reverse[] | .content.body'
}
has_body() { bodies "$1" | grep -qxF "$2"; }

# event ROOM ID [TOKEN]: an event as the server shows it to ops, or to
# the device of TOKEN.
event() {
	api "${3:-$ops_token}" GET "/_matrix/client/v3/rooms/$(urlenc "$1")/event/$(urlenc "$2")"
}

# by_token TOKEN ROOM: the event of out was sent with TOKEN, not with a
# profile's session: only the sending device sees its transaction id.
by_token() {
	event "$2" "$(jq -r .event_id out)" "$1" | jq -r .unsigned.transaction_id >got &&
	jq -r .txn_id out >want && test_cmp want got
}

alias_of() { echo "#$1-$$-$page_no:$MX_TEST_SERVER_NAME"; }
room_of() { eval "echo \$${1}_room"; }

# --- each page's world ----------------------------------------------------------

# new_page PAGE: a directory and profiles of its own, four public rooms
# made by ops that ci joined (#ops, #alerts, #builds and one known by its
# ID only), the default profile empty.
page_no=0
new_page() {
	page_no=$((page_no + 1))
	mkdir -p "$TRASH/$1" && cd "$TRASH/$1" &&
	MX_DIR=$TRASH/$1/mx && export MX_DIR &&
	for _r in ops alerts builds abc; do
		_init='[]'
		[ "$_r" = ops ] && [ "$1" = mx.7 ] &&
			_init='[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]'
		_id=$(create_room "$ops_token" "{\"preset\":\"public_chat\",
			\"room_alias_name\":\"$_r-$$-$page_no\",
			\"initial_state\":$_init}") && test -n "$_id" &&
		api "$ci_token" POST "/_matrix/client/v3/join/$(urlenc "$_id")" '{}' >/dev/null &&
		eval "${_r}_room=\$_id" || return 1
	done
}

# login_as NAME [PROFILE]: log NAME into PROFILE (default: the default).
login_as() {
	eval "printf '%s\n' \"\$${1}_pw\"" |
		mx-keys ${2:+-p "$2"} login --homeserver "$MX_TEST_HOMESERVER" \
			-u "$(eval "echo \$${1}_id")" --password-stdin >/dev/null
}

# --- mx-bridge-check(1) ----------------------------------------------------------

# The test homeserver's appservice (t/synapse/run): its bot, and its token.
bot=@telegrambot:$MX_TEST_SERVER_NAME
as_token=as-${MX_TEST_SHARED_SECRET:-}

# bridged ROOM: ROOM encrypted, bridged to Telegram by the appservice's
# bot, who joins it.
bridged() {
	api "$as_token" POST "/_matrix/client/v3/join/$(urlenc "$1")?user_id=$(urlenc "$bot")" '{}' >/dev/null &&
	api "$ops_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$1")/state/m.room.encryption/" \
		'{"algorithm":"m.megolm.v1.aes-sha2"}' >/dev/null &&
	api "$ops_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$1")/state/m.bridge/tg" \
		"{\"bridgebot\":\"$bot\",\"protocol\":{\"id\":\"telegram\"},\"channel\":{\"id\":\"42\"}}" >/dev/null
}

# The verdict line as shown; the first finding starts as shown.
bc_table() {
	bridged "$abc_room" && { run "$1"; test $? = 1; } &&
	outputs "$1" >want && head -n 1 want >want1 && head -n 1 out >got1 &&
	test_cmp want1 got1 &&
	sed -n "2s/ \\.\\.\\.\$//p" want >want2 && test -s want2 &&
	sed -n 2p out | grep -qF "$(cat want2)"
}

bc_all() {
	run "$1" && outputs "$1" >want && test_cmp want out
}

bc_ci() {
	bridged "$ops_room" && outputs "$1" >accepted &&
	run "$1" CI_TOKEN="$ci_token" &&
	tail -n 1 out | jq -c "[.verdict, .high]" >got && echo '["pass",0]' >want &&
	test_cmp want got &&
	MX_HOMESERVER=$MX_TEST_HOMESERVER MX_ACCESS_TOKEN=$ci_token \
		test_expect_code 1 mx-bridge-check "$ops_room" >/dev/null
}

bc_post() {
	run "$1" && bodies "$alerts_room" >got &&
	grep -q "^bridge: telegram bridge channel 42 via $bot: confirmed" got
}

# bc_watch: a widget added to #ops while the pipeline runs shows in #alerts.
bc_watch() {
	tty_start "$1" && sleep 2 &&
	api "$ops_token" PUT "/_matrix/client/v3/rooms/$(urlenc "$ops_room")/state/im.vector.modular.widgets/pad" \
		'{"type":"etherpad","url":"https://pad.example.net/p/ops"}' >/dev/null &&
	wait_for has_body "$alerts_room" "integrations: widget 'pad' (etherpad) loads https://pad.example.net/p/ops" &&
	tty_running && tty_stop
}

# bc_ping: the test appservice ("telegram", t/synapse/run) reached, a
# listener of ours answering in its place on its port.
bc_ping() {
	_port=$(sed -n 's/^url: "http:.*:\([0-9]*\)"$/\1/p' \
		"${MX_TEST_CHROOT:-/var/cache/mx-test/sid}/run/mx-${MX_TEST_HOMESERVER##*:}/appservice.yaml") &&
	test -n "$_port" &&
	python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    do_PUT = do_POST
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("up", flush=True)
s.serve_forever()' "$_port" >listener.up &
	_l=$! && wait_for test -s listener.up &&
	# Three tries: see t/0703 (matrix-org/synapse#15745).
	{ run "$1" AS_TOKEN="$as_token" || run "$1" AS_TOKEN="$as_token" ||
		run "$1" AS_TOKEN="$as_token"; _st=$?; kill $_l; test $_st = 0; } &&
	jq -e "[.appservice, .reachable, (.duration_ms | type)] ==
		[\"telegram\", true, \"number\"]" out
}

# --- mx-keys(1) -------------------------------------------------------------------

keys_login() {
	on_tty "$1" TTY_PASSWORD="$ops_pw" && outputs "$1" >want &&
	shows_as want screen &&
	tail -n 1 screen | jq -r .user_id >got && echo "$ops_id" >want &&
	test_cmp want got && tail -n 1 screen | jq -r .device_id >first.device
}

keys_bot() {
	echo "$alertbot_pw" >bot.pw && run "$1" && test $(wc -l <out) = 1 &&
	jq -r .user_id out >got && echo "$alertbot_id" >want && test_cmp want got &&
	api "$alertbot_token" GET "/_matrix/client/v3/devices/$(jq -r .device_id out)" |
		jq -r .display_name >got &&
	echo "alerts on ci-1" >want && test_cmp want got &&
	jq -r .device_id out >bot.device
}

keys_token() {
	run "$1" CI_MATRIX_TOKEN="$ci_token" &&
	jq -r '.user_id + " " + .device_id' out >got &&
	echo "$ci_id $ci_device" >want && test_cmp want got &&
	mx-keys -p ci whoami | jq -r .user_id >got && echo "$ci_id" >want &&
	test_cmp want got
}

keys_whoami() {
	run "$1" && outputs "$1" >want && test_cmp want out
}

keys_env() {
	ls "$MX_DIR" >profiles.before &&
	run "$1" TOKEN="$bob_token" &&
	jq -r '.user_id + " " + .device_id' out >got &&
	echo "$bob_id $bob_device" >want && test_cmp want got &&
	ls "$MX_DIR" >profiles.after && test_cmp profiles.before profiles.after
}

keys_audit() {
	run "$1" && echo "check the devices of #ops" >want && test_cmp want out &&
	grep -q "^mx-keys: [1-9][0-9]* device(s) not verified\$" err
}

keys_force() {
	on_tty "$1" TTY_PASSWORD="$ops_pw" &&
	grep -qx "password for $ops_id: *" screen &&
	test_expect_code 2 mx-keys -p bot whoami 2>/dev/null &&
	! api "$alertbot_token" GET "/_matrix/client/v3/devices/$(cat bot.device)" &&
	mx-keys whoami | jq -r '.user_id, .device_id' >got &&
	test "$(head -n 1 got)" = "$ops_id" &&
	test "$(tail -n 1 got)" != "$(cat first.device)"
}

# The default profile (ops, after keys_force) holds the key of one
# encrypted message; the new profile laptop reads it after the import.
keys_export() {
	r=$(create_room "$ops_token" '{"initial_state":[{"type":"m.room.encryption","state_key":"","content":{"algorithm":"m.megolm.v1.aes-sha2"}}]}') &&
	mx-send "$r" "before the laptop" >/dev/null &&
	login_as ops laptop &&
	mx-sync -p laptop --history "$r" >before &&
	! grep -q "before the laptop" before &&
	on_tty "$1" TTY_STORE="keys passphrase" && outputs "$1" >want &&
	shows_as want screen &&
	test "$(stat -c %a room-keys.txt)" = 600 &&
	mx-sync -p laptop --history "$r" >after &&
	jq -s -e "any(.[]; .content.body == \"before the laptop\" and .mx.key_source == \"imported\")" after
}

keys_delete() {
	d=$(mx-keys -p laptop whoami | jq -r .device_id) &&
	on_tty "$1" TTY_PASSWORD="$ops_pw" &&
	grep -qx "password for $ops_id: *" screen &&
	grep "^{" screen | jq -e --arg d "$d" ".device_id == \$d and .deleted == true and .display_name == \"mx (profile laptop) on $(hostname)\"" &&
	! api "$ops_token" GET "/_matrix/client/v3/devices/$d" >/dev/null 2>&1
}

keys_prune() {
	echo "$ops_pw" >ops.pw &&
	api "$ops_token" GET /_matrix/client/v3/devices >before &&
	run "$1" && test ! -s out &&
	api "$ops_token" GET /_matrix/client/v3/devices >after &&
	test "$(jq ".devices | length" before)" = "$(jq ".devices | length" after)"
}

keys_bk_create() {
	run "$1" && test $(wc -l <ci-recovery.txt) = 1 &&
	grep -Eqx '([1-9A-HJ-NP-Za-km-z]{4} ){11}[1-9A-HJ-NP-Za-km-z]{4}' ci-recovery.txt
}

keys_bk_status() {
	run "$1" && outputs "$1" >want && test_cmp want out
}

keys_bk_restore() {
	echo "$ci_pw" >ci.pw && run "$1" && test $(wc -l <out) = 2 &&
	tail -n 1 out | jq -e '.restored == 0 and .rejected == 0' &&
	mx-keys -p desk whoami | jq -r .user_id >got && echo "$ci_id" >want &&
	test_cmp want got
}

# --- mx-verify(1) ----------------------------------------------------------------

# xs_setup: the bot's account gets cross-signing and new secret storage;
# the recovery key kept opens it for another profile of the bot's.
xs_setup() {
	login_as alertbot bot && run "$1" && test ! -s out &&
	test $(wc -l <bot-recovery.txt) = 1 &&
	grep -Eqx '([1-9A-HJ-NP-Za-km-z]{4} ){11}[1-9A-HJ-NP-Za-km-z]{4}' bot-recovery.txt &&
	test "$(stat -c %a bot-recovery.txt)" = 600 &&
	mx-verify -p bot cross-signing status |
		jq -e '.published and .device_signed and (.private_keys | length) == 3' &&
	login_as alertbot bot2 &&
	mx-verify -p bot2 cross-signing import --recovery-key-stdin <bot-recovery.txt |
		jq -e '.published and .device_signed'
}

# --- mx-room(1) -------------------------------------------------------------------

# st ROOM TYPE [KEY]: a state event's content, as ops sees it.
st() {
	api "$ops_token" GET "/_matrix/client/v3/rooms/$(urlenc "$1")/state/$2/$(urlenc "${3:-}")"
}

room_create() {
	run "$1" && room=$(jq -r .room_id out) &&
	st "$room" m.room.name | jq -r .name >got && echo "Incident 42" >want &&
	test_cmp want got &&
	st "$room" m.room.encryption | jq -r .algorithm >got &&
	echo m.megolm.v1.aes-sha2 >want && test_cmp want got &&
	st "$room" m.room.member "$bob_id" | jq -r .membership >got &&
	echo invite >want && test_cmp want got &&
	event "$room" "$(jq -r .event_id out)" | jq -r .type >got &&
	echo m.room.encrypted >want && test_cmp want got
}

room_list() {
	run "$1" && outputs "$1" >want && test_cmp want out
}

room_dm() {
	run "$1" && head -n 1 out >got && echo null >want && test_cmp want got &&
	room=$(tail -n 1 out | jq -r .room_id) &&
	api "$ops_token" GET "/_matrix/client/v3/user/$(urlenc "$ops_id")/account_data/m.direct" |
		jq -r --arg b "$bob_id" '.[$b][]' >got && echo "$room" >want &&
	test_cmp want got &&
	st "$room" m.room.member "$bob_id" | jq -c '[.membership, .is_direct]' >got &&
	echo '["invite",true]' >want && test_cmp want got &&
	# m.direct is the user's, not the page's: mx-send(1)'s page must make
	# a DM of its own (not encrypted), so this one is left.
	api "$ops_token" POST "/_matrix/client/v3/rooms/$(urlenc "$room")/leave" '{}' >/dev/null
}

room_invite() {
	run "$1" && outputs "$1" >want && test_cmp want out
}

room_state() {
	run "$1" && head -n 1 out | jq -e '.event_id | startswith("$")' &&
	outputs "$1" >want && tail -n 1 out >got && test_cmp want got &&
	st "$ops_room" m.room.history_visibility | jq -r .history_visibility >got &&
	echo joined >want && test_cmp want got
}

room_encrypt() {
	test_must_fail st "$alerts_room" m.room.encryption >/dev/null &&
	run "$1" && st "$alerts_room" m.room.encryption | jq -r .algorithm >got &&
	echo m.megolm.v1.aes-sha2 >want && test_cmp want got
}

room_power() {
	run "$1" && test $(wc -l <out) = 2 &&
	st "$ops_room" m.room.power_levels | jq -r --arg c "$ci_id" '.users[$c]' >got &&
	echo 50 >want && test_cmp want got &&
	st "$ops_room" m.room.member "$ci_id" | jq -c '[.membership, .reason]' >got &&
	echo '["leave","moved to the build room"]' >want && test_cmp want got
}

room_alias() {
	run "$1" && outputs "$1" >want && tail -n 1 out >got && test_cmp want got &&
	api "$ops_token" GET "/_matrix/client/v3/directory/room/$(urlenc "$(alias_of deploys)")" |
		jq -r .room_id >got && echo "$abc_room" >want && test_cmp want got
}

room_leave() {
	run "$1" &&
	api "$ops_token" GET /_matrix/client/v3/joined_rooms >joined &&
	! jq -e --arg r "$builds_room" '.joined_rooms | index($r)' joined &&
	test_must_fail api "$ops_token" GET "/_matrix/client/v3/rooms/$(urlenc "$builds_room")/messages?dir=b&limit=1"
}

# --- mx-send(1) -------------------------------------------------------------------

send_two() {
	run "$1" && test $(wc -l <out) = 2 &&
	jq -c 'keys' out | sort -u >got && echo '["event_id","room_id","txn_id"]' >want &&
	test_cmp want got &&
	jq -r .room_id out | sort -u >got && echo "$ops_room" >want && test_cmp want got &&
	event "$ops_room" "$(jq -r .event_id out | head -n 1)" |
		jq -c '.content | [.msgtype, .body]' >got &&
	event "$ops_room" "$(jq -r .event_id out | tail -n 1)" |
		jq -c '.content | [.msgtype, .body, .formatted_body]' >>got &&
	cat >want <<-\EOF &&
	["m.text","deploy finished"]
	["m.notice","**build 41** passed","<strong>build 41</strong> passed"]
	EOF
	test_cmp want got
}

send_lines() {
	printf 'one\ntwo\n' >app.log && tty_start "$1" &&
	wait_for shows 2 screen && echo three >>app.log &&
	wait_for shows 3 screen &&
	tty_running && tty_stop &&
	bodies "$ops_room" | tail -n 3 >got && printf 'one\ntwo\nthree\n' >want &&
	test_cmp want got
}

send_react() {
	printf '%%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n' \
		>report.pdf && run "$1" && test $(wc -l <out) = 1 &&
	room=$(jq -r .room_id out) &&
	api "$ops_token" GET "/_matrix/client/v3/user/$(urlenc "$ops_id")/account_data/m.direct" |
		jq -r --arg b "$bob_id" '.[$b][]' | grep -qxF "$room" &&
	api "$ops_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/messages?dir=b&limit=50" >msgs &&
	jq -c '.chunk[] | select(.content.msgtype == "m.file") | .content |
		[.body, .info.mimetype]' msgs >got &&
	echo '["report.pdf","application/pdf"]' >want && test_cmp want got &&
	file=$(jq -r '.chunk[] | select(.content.msgtype == "m.file") | .event_id' msgs) &&
	event "$room" "$(jq -r .event_id out)" |
		jq -c '.content."m.relates_to" | [.rel_type, .event_id == "'"$file"'", .key]' >got &&
	echo '["m.annotation",true,"✅"]' >want && test_cmp want got
}

# forward: whichever profile the page logged in, a message into #ops shows
# in #alerts while the pipeline runs; sent by bob's own profile into an
# encrypted #ops (mx.7), by curl otherwise.
forward() {
	tty_start "$1" && sleep 1 && text="forwarded $$ $page_no" &&
	if [ "$page" = mx.7 ]; then
		mx-send -p bob "$ops_room" "$text" >/dev/null
	else
		send_text "$ops_token" "$ops_room" "$text" >/dev/null
	fi &&
	wait_for has_body "$alerts_room" "$text" && tty_running && tty_stop
}

send_ci() {
	seq -f 'build line %g' 25 >build.log &&
	run "$1" CI_MATRIX_TOKEN="$ci_token" && test $(wc -l <out) = 1 &&
	by_token "$ci_token" "$abc_room" &&
	event "$abc_room" "$(jq -r .event_id out)" >ev &&
	jq -r .content.body ev >got && tail -n 20 build.log >want &&
	test_cmp want got &&
	jq -r .content.formatted_body ev | head -n 1 | grep -q '^<pre><code class="language-sh">build line 6$'
}

# --- mx-sync(1) -------------------------------------------------------------------

sync_follow() {
	tty_start "$1" && sleep 1 && text="followed $$" &&
	send_text "$ops_token" "$ops_room" "$text" >/dev/null &&
	wait_for grep -qF "\"$text\"" screen && tty_running && tty_stop &&
	grep -F "\"$text\"" screen | jq -r '.type + " " + .room_id' >got &&
	echo "m.room.message $ops_room" >want && test_cmp want got &&
	jq -r .type screen | sort -u >got && echo m.room.message >want &&
	test_cmp want got
}

sync_limit() {
	for i in $(seq 25); do
		send_text "$ops_token" "$ops_room" "message $i" >/dev/null || return 1
	done &&
	run "$1" && seq -f 'message %g' 6 25 >want && test_cmp want out
}

sync_history() {
	run "$1" && test ! -s out &&
	head -n 1 ops.jsonl | jq -r .type >got && echo m.room.create >want &&
	test_cmp want got &&
	jq -r .room_id ops.jsonl | sort -u >got && echo "$ops_room" >want &&
	test_cmp want got &&
	jq -r 'select(.content.body // "" | startswith("message ")) | .content.body' \
		ops.jsonl >got && seq -f 'message %g' 25 >want && test_cmp want got
}

# --- mx(7) ------------------------------------------------------------------------

bot_seal() {
	echo "seal $$" >pass && on_tty "$1" TTY_PASSWORD="$ci_pw" &&
	test $(wc -l <ci.identity) = 1 && test ! -e "$MX_DIR/ci" &&
	grep '^{' screen | jq -r .device_id >bot.device &&
	api "$ci_token" GET "/_matrix/client/v3/devices/$(cat bot.device)" >/dev/null
}

bot_send() {
	sha=c0ffee$$ &&
	run "$1" CI_MATRIX_IDENTITY="$(cat ci.identity)" \
		CI_MATRIX_PASSPHRASE="$(cat pass)" CI_COMMIT_SHA=$sha &&
	test ! -e "$MX_DIR/default" && test ! -e "$MX_DIR/ci" &&
	eid=$(jq -r .event_id out) &&
	event "$ops_room" "$eid" | jq -r .type >got &&
	echo m.room.encrypted >want && test_cmp want got &&
	mx-sync -p ops "$ops_room" >synced &&
	jq -c --arg e "$eid" 'select(.event_id == $e) |
		[.content.body, .mx.decrypted, .mx.device_id]' synced >got &&
	echo "[\"deployed $sha\",true,\"$(cat bot.device)\"]" >want &&
	test_cmp want got
}

login_make() {
	printf 'all:\n\t@seq 30\n' >Makefile &&
	on_tty "$1" TTY_PASSWORD="$ci_pw" &&
	grep '^{' screen | tail -n 1 | jq -r .event_id >eid &&
	event "$builds_room" "$(cat eid)" >ev &&
	jq -r .content.body ev >got && seq 11 30 >want && test_cmp want got &&
	jq -r .content.formatted_body ev | grep -q 'class="language-text"' &&
	mx-keys whoami | jq -r .user_id >got && echo "$ci_id" >want &&
	test_cmp want got
}

ci_env() {
	ls "$MX_DIR" >profiles.before &&
	run "$1" CI_MATRIX_TOKEN="$ci_token" CI_PIPELINE_ID=4711$$ &&
	ls "$MX_DIR" >profiles.after && test_cmp profiles.before profiles.after &&
	by_token "$ci_token" "$builds_room" &&
	event "$builds_room" "$(jq -r .event_id out)" | jq -r .content.body >got &&
	echo "build 4711$$ passed" >want && test_cmp want got
}

# --- the pages ----------------------------------------------------------------------

for u in ops ci bob alertbot; do
	setup register_user $u
done

: >used
for m in "$MX_SRC"/man/mx-*.1 "$MX_SRC"/man/mx.7; do
	page=${m##*/}
	setup new_page "$page"
	setup mkdir ex
	setup extract "$m" ex
	case $page in
	mx-bridge-check.1 | mx-room.1 | mx-send.1 | mx-sync.1) setup login_as ops ;;
	mx.7)
		setup login_as ops ops
		setup login_as bob bob
		setup api "$bob_token" POST \
			"/_matrix/client/v3/join/$(urlenc "$ops_room")" "{}" ;;
	esac
	for k in "$TRASH/$page"/ex/*.key; do
		[ -f "$k" ] || continue
		ex=${k%.key}
		key=$(cat "$k")
		fn=$(K=$key awk -F '\t' '$2 == ENVIRON["K"] { print $1; exit }' "$TRASH/table")
		printf '%s\n' "$key" >>"$TRASH/used"
		name=$key
		case $fn in
		'')
			test_expect_success "$name" "
				echo 'no test for this example: add it to the table'; false
			" ;;
		skip:*) test_skip "$name: ${fn#skip:}" ;;
		*)
			test_expect_success "$name" '
				subst "$ex" >"$ex.x" &&
				if grep -n "example\.org" "$ex.x"; then
					echo "a placeholder this test does not know"
					false
				fi && $fn "$ex.x"
			' ;;
		esac
	done
done
test_expect_success 'the table lists no example the pages do not have' '
	cd "$TRASH" && cut -f 2 table | sort >listed && sort used >shown &&
	comm -23 listed shown >gone && cat gone && test ! -s gone
'
test_done
