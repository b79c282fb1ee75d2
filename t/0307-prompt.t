#!/bin/sh
# mx-send ROOM with a terminal on stdin and no TEXT: a libedit prompt, each
# line sent as it is entered, the history kept in the profile, Ctrl-D ends.
. "${0%/*}/lib.sh"
need_homeserver
command -v python3 >/dev/null || skip_all "no python3"

setup register_user alice
setup login_profile alice
room=$(create_room "$alice_token") || setup_failed "a room of alice's"

# chat LINE...: run mx-send -p alice "$room" on a new pseudo-terminal, type
# each LINE after the prompt shows, then Ctrl-D; stdout (the JSON lines)
# goes to the file out, the terminal to screen.
chat() {
	python3 - "$room" "$@" <<-\EOT
	import os, pty, select, subprocess, sys, time
	room, lines = sys.argv[1], sys.argv[2:]
	master, slave = pty.openpty()
	out = open("out", "wb")
	p = subprocess.Popen(["mx-send", "-p", "alice", room], stdin=slave,
	                     stdout=out, stderr=slave, close_fds=True)
	os.close(slave)
	seen, end = b"", time.time() + 60
	def wait_for(n):
	    # The n-th prompt, then a quiet moment: the editor is reading
	    # (what is typed while it is not may be flushed).
	    global seen
	    quiet = 0
	    while time.time() < end and (seen.count(b"> ") < n or quiet < 3):
	        r, _, _ = select.select([master], [], [], 0.1)
	        quiet += 1
	        if r:
	            try:
	                seen += os.read(master, 4096)
	            except OSError:
	                return
	            quiet = 0
	for i, l in enumerate(lines):
	    wait_for(i + 1)
	    os.write(master, l.encode() + b"\r")
	wait_for(len(lines) + 1)
	for _ in range(20):
	    try:
	        os.write(master, b"\x04")
	    except OSError:
	        break
	    try:
	        p.wait(timeout=2)
	        break
	    except subprocess.TimeoutExpired:
	        pass
	rc = p.wait(timeout=30)
	open("screen", "wb").write(seen)
	sys.exit(rc)
	EOT
}

# bodies N: the last N message bodies of the room, oldest first.
bodies() {
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/messages?dir=b&limit=$1&filter=%7B%22types%22%3A%5B%22m.room.message%22%5D%7D" |
		jq -r '.chunk | reverse | .[].content.body'
}

test_expect_success 'two lines typed, then Ctrl-D: two messages, exit 0' '
	chat "hello from a shell" "second line" &&
	test "$(wc -l <out)" = 2 &&
	bodies 2 >got &&
	printf "hello from a shell\nsecond line\n" >want && test_cmp want got
'

test_expect_success 'the prompt names the room, on the terminal, not stdout' '
	grep -qF "$room> " screen &&
	! grep -qF "$room> " out
'

test_expect_success 'the history is kept in the profile, 0600' '
	h="$MX_DIR/alice/history" &&
	test "$(stat -c %a "$h")" = 600 &&
	grep -q "second.040line" "$h"
'

test_expect_success 'an empty line sends nothing' '
	chat "" "after empty" &&
	test "$(wc -l <out)" = 1 &&
	bodies 1 >got && echo "after empty" >want && test_cmp want got
'

test_done
