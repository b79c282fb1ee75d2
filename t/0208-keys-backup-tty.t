#!/bin/sh
# mx-keys backup restore asks for the key on the terminal when no option
# names one: a recovery key, or else secret storage's passphrase, read
# without echo.
. "$(dirname "$0")/lib.sh"
need_homeserver

setup register_user u
setup login_profile u
r=$(mx-room -p u create | jq -er .room_id) || setup_failed "an encrypted room"
setup mx-send -p u "$r" "kept in the backup"
mx-keys -p u backup create | jq -r .recovery_key >rk ||
	setup_failed "a backup"
for p in fresh fresh2; do
	printf '%s\n' "$u_pw" | mx-keys -p $p login --homeserver "$MX_TEST_HOMESERVER" \
		-u "$u_id" --password-stdin >/dev/null || setup_failed "a new device"
done

# onpty.py ANSWER CMD...: run CMD on a terminal, type ANSWER at its first
# prompt (once it ends in a colon); what the terminal showed on stdout,
# CMD's exit status.
cat >onpty.py <<\EOP
import os, pty, select, sys, time
answer = sys.argv[1].encode() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen, sent = b"", False
while True:
    r, _, _ = select.select([fd], [], [], 20)
    if not r:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not sent and seen.rstrip().endswith(b":"):
        time.sleep(0.2)
        os.write(fd, answer)
        sent = True
_, st = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(st))
EOP

test_expect_success 'the recovery key typed at the prompt, not echoed' '
	python3 onpty.py "$(cat rk)" mx-keys -p fresh backup restore >screen &&
	grep -q "^recovery key or secret storage passphrase:" screen &&
	grep -qx "{\"restored\":1,\"improved\":0,\"skipped\":0,\"rejected\":0}" screen &&
	! grep -qF "$(cut -c1-14 rk)" screen &&
	mx-sync -p fresh --history "$r" >s &&
	jq -s -e "any(.[]; .content.body == \"kept in the backup\" and .mx.key_source == \"backup\")" s
'

test_expect_success 'what is no recovery key is the passphrase: without secret storage, 5' '
	test_expect_code 5 python3 onpty.py "some words" mx-keys -p fresh2 backup restore >screen &&
	grep -q "^mx-keys: the account has no secret storage; restore needs the recovery key (--recovery-key-stdin)" screen
'

test_expect_success 'the profile holds the key now: a restore asks nothing' '
	mx-keys -p fresh backup restore </dev/null >again &&
	jq -e ".restored == 0 and .rejected == 0 and .skipped >= 1" again
'

test_done
