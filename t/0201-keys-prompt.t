#!/bin/sh
# mx-keys login: the password typed at a terminal prompt, without echo.
. "${0%/*}/lib.sh"
need_homeserver

# on_tty PASSWORD CMD...: run CMD on a new pseudo-terminal, answer its
# password prompt with PASSWORD and a store passphrase prompt with
# $TTY_STORE (empty by default: a key file); prints all the terminal showed,
# exits as CMD did.
on_tty() {
	TTY_STORE=${TTY_STORE:-} python3 - "$@" <<-\EOT
	import os, pty, select, signal, sys, termios, time
	answers = [(b"password for ", sys.argv[1].encode() + b"\n"),
	           (b"passphrase ", os.environ["TTY_STORE"].encode() + b"\n")]
	pid, fd = pty.fork()
	if pid == 0:
	    os.execvp(sys.argv[2], sys.argv[2:])
	seen, done, end = b"", 0, time.time() + 20
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
	    # Answer each prompt once it shows with echo off (the program
	    # flushes typed-ahead input when it turns echo off).
	    tail = seen[done:]
	    for want, answer in answers:
	        if (want in tail and tail.rstrip().endswith(b":") and
	                not termios.tcgetattr(fd)[3] & termios.ECHO):
	            os.write(fd, answer)
	            done = len(seen)
	            break
	else:
	    os.kill(pid, signal.SIGKILL)
	_, st = os.waitpid(pid, 0)
	sys.stdout.write(seen.decode(errors="replace").replace("\r", ""))
	sys.exit(os.waitstatus_to_exitcode(st))
	EOT
}

setup register_user alice

test_expect_success 'the password is asked on the terminal, not echoed' '
	on_tty "$alice_pw" mx-keys login -u "$alice_id" \
		--homeserver "$MX_TEST_HOMESERVER" >screen &&
	cp screen screen0 &&
	grep -q "^password for $alice_id: \$" screen &&
	! grep -qF "$alice_pw" screen &&
	tail -n 1 screen | jq -r .user_id >got &&
	echo "$alice_id" >want && test_cmp want got &&
	mx-keys whoami | jq -r .user_id >got && test_cmp want got
'

test_expect_success 'a wrong password at the prompt: exit 3, no profile left' '
	TTY_STORE=typed-in-vain test_expect_code 3 on_tty wrong mx-keys -p w \
		login -u "$alice_id" --homeserver "$MX_TEST_HOMESERVER" >screen &&
	grep -q "M_FORBIDDEN" screen &&
	! grep -q "^passphrase" screen &&
	test ! -e "$MX_DIR/w"
'

test_expect_success 'the password is asked before the store passphrase' '
	grep -n "" screen0 | grep "password for \|passphrase for" >order &&
	head -n 1 order | grep -q "password for"
'

test_expect_success 'a new profile: the store passphrase is offered; empty keeps a key file' '
	grep -q "^passphrase for the new profile.s store (empty: a key file): \$" screen0 &&
	test -f "$MX_DIR/default/store.key"
'

test_expect_success 'a store passphrase given at the prompt seals the store' '
	TTY_STORE=s3cret-store on_tty "$alice_pw" mx-keys -p sealed login \
		-u "$alice_id" --homeserver "$MX_TEST_HOMESERVER" >screen &&
	! grep -qF s3cret-store screen &&
	test ! -e "$MX_DIR/sealed/store.key"
'

test_expect_success 'later runs ask for it on the terminal' '
	TTY_STORE=s3cret-store on_tty unused mx-keys -p sealed devices >screen &&
	grep -q "^passphrase of the store of .*sealed.: \$" screen &&
	tail -n 1 screen | jq -e ".device_id" >/dev/null
'

test_expect_success 'a wrong one is refused (5)' '
	TTY_STORE=wrong test_expect_code 5 on_tty unused mx-keys -p sealed devices >screen &&
	grep -q "wrong store passphrase" screen
'

test_expect_success 'no terminal and no --password-stdin: exit 2' '
	test_expect_code 2 setsid -w mx-keys -p n login -u "$alice_id" \
		--homeserver "$MX_TEST_HOMESERVER" </dev/null 2>err &&
	grep -q "no terminal" err
'

test_done
