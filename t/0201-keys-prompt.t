#!/bin/sh
# mx-keys login: the password typed at a terminal prompt, without echo.
. "${0%/*}/lib.sh"
need_homeserver

# on_tty PASSWORD CMD...: run CMD on a new pseudo-terminal, answer its
# password prompt with PASSWORD; prints all the terminal showed, exits as
# CMD did.
on_tty() {
	python3 - "$@" <<-\EOT
	import os, pty, select, signal, sys, termios, time
	pw = sys.argv[1].encode() + b"\n"
	pid, fd = pty.fork()
	if pid == 0:
	    os.execvp(sys.argv[2], sys.argv[2:])
	seen, sent, end = b"", False, time.time() + 20
	while time.time() < end:
	    r, _, _ = select.select([fd], [], [], 0.05)
	    if r:
	        try:
	            chunk = os.read(fd, 4096)
	        except OSError:
	            break
	        if not chunk:
	            break
	        seen += chunk
	    # Type only once the prompt is shown and echo is off: the program
	    # flushes typed-ahead input when it turns echo off.
	    if (not sent and b"password for " in seen and
	            not termios.tcgetattr(fd)[3] & termios.ECHO):
	        os.write(fd, pw)
	        sent = True
	else:
	    os.kill(pid, signal.SIGKILL)
	_, st = os.waitpid(pid, 0)
	sys.stdout.write(seen.decode(errors="replace").replace("\r", ""))
	sys.exit(os.waitstatus_to_exitcode(st))
	EOT
}

test_expect_success 'setup' 'register_user alice'

test_expect_success 'the password is asked on the terminal, not echoed' '
	on_tty "$alice_pw" mx-keys login -u "$alice_id" \
		--homeserver "$MX_TEST_HOMESERVER" >screen &&
	grep -q "^password for $alice_id: \$" screen &&
	! grep -qF "$alice_pw" screen &&
	tail -n 1 screen | jq -r .user_id >got &&
	echo "$alice_id" >want && test_cmp want got &&
	mx-keys whoami | jq -r .user_id >got && test_cmp want got
'

test_expect_success 'a wrong password at the prompt: exit 3' '
	test_expect_code 3 on_tty wrong mx-keys -p w login -u "$alice_id" \
		--homeserver "$MX_TEST_HOMESERVER" >screen &&
	grep -q "M_FORBIDDEN" screen
'

test_expect_success 'no terminal and no --password-stdin: exit 2' '
	test_expect_code 2 setsid -w mx-keys -p n login -u "$alice_id" \
		--homeserver "$MX_TEST_HOMESERVER" </dev/null 2>err &&
	grep -q "no terminal" err
'

test_done
