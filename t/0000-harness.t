#!/bin/sh
# The test harness itself: the homeserver answers, users register, the
# helpers report failures instead of hiding them, set-up failures end a
# script loudly, and scripts that cannot run here say so at once.
. "${0%/*}/lib.sh"
need_homeserver

setup register_user alice

test_expect_success 'homeserver answers /versions' '
	curl -sf "$MX_TEST_HOMESERVER/_matrix/client/versions" | jq -e .versions
'
test_expect_success 'register_user makes a user with a working token' '
	api "$alice_token" GET /_matrix/client/v3/account/whoami >who &&
	test "$(jq -r .user_id who)" = "$alice_id" &&
	test "$(jq -r .device_id who)" = "$alice_device"
'
test_expect_success 'create_room and send_text' '
	room=$(create_room "$alice_token") &&
	case $room in !*) ;; *) false ;; esac &&
	eid=$(send_text "$alice_token" "$room" hello) &&
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/event/$(urlenc "$eid")" >ev &&
	test "$(jq -r .content.body ev)" = hello
'
test_expect_success 'create_room and send_text fail when the server refuses' '
	test_must_fail create_room nope >out 2>/dev/null && test ! -s out &&
	test_must_fail send_text "$alice_token" "!nope:$MX_TEST_SERVER_NAME" x \
		>out 2>/dev/null && test ! -s out
'
test_expect_success 'test_must_fail rejects success and crashes' '
	! test_must_fail true 2>/dev/null &&
	! test_must_fail sh -c "kill -SEGV \$\$" 2>/dev/null &&
	test_must_fail false
'
test_expect_success 'test_expect_code checks the exact status' '
	test_expect_code 3 sh -c "exit 3" &&
	! test_expect_code 3 sh -c "exit 4" 2>/dev/null
'

# inner NAME: run the test script NAME.t read from stdin as
# inner/t/NAME.t, beside a copy of what the tests source (lib.sh, peer/,
# synapse/, the peer tests), with the programs built here; its stdout in
# NAME.out, stderr in NAME.err, exit status in NAME.st (124: it hung).
inner() {
	mkdir -p inner/t &&
	cp -R "$MX_SRC/t/lib.sh" "$MX_SRC/t/peer" "$MX_SRC/t/synapse" \
		"$MX_SRC"/t/05[2-4]*.t "$MX_SRC/t/0540-e2ee-peer.sh" inner/t/ &&
	cat >"inner/t/$1.t" &&
	{ timeout 60 sh "inner/t/$1.t" >"$1.out" 2>"$1.err"; echo $? >"$1.st"; }
}

test_expect_success 'a test that exits or returns non-zero is reported failed' '
	inner fails <<-\EOT &&
	. "${0%/*}/lib.sh"
	test_expect_success "exit" "exit 1"
	test_expect_success "return" "return 1"
	test_expect_success "return in a loop" "for i in 1 2; do false || return 1; done"
	test_expect_success "true" "true"
	test_done
	EOT
	printf "%s\n" "not ok 1 - exit" "not ok 2 - return" \
		"not ok 3 - return in a loop" "ok 4 - true" "1..4" >want &&
	test_cmp want fails.out && echo 1 >want && test_cmp want fails.st
'
test_expect_success 'what a test sets does not reach the next test' '
	inner vars <<-\EOT &&
	. "${0%/*}/lib.sh"
	x=top
	test_expect_success "sets" "x=changed && y=new && cd /"
	test_expect_success "sees" "test \"\$x\" = top && test -z \"\${y:-}\" && test -f .test-out"
	test_done
	EOT
	printf "%s\n" "ok 1 - sets" "ok 2 - sees" "1..2" >want &&
	test_cmp want vars.out && echo 0 >want && test_cmp want vars.st
'
test_expect_success 'a failed set-up step ends the script, saying which' '
	inner setup <<-\EOT &&
	. "${0%/*}/lib.sh"
	setup true
	test_expect_success "before" "true"
	x=$(false) || setup_failed "no x"
	test_expect_success "after" "true"
	test_done
	EOT
	printf "%s\n" "ok 1 - before" "not ok 2 - set-up: no x" "1..2" >want &&
	test_cmp want setup.out && echo 1 >want && test_cmp want setup.st &&
	echo "setup: set-up failed: no x" >want && test_cmp want setup.err &&
	inner setup2 <<-\EOT &&
	. "${0%/*}/lib.sh"
	setup false
	test_done
	EOT
	printf "%s\n" "not ok 1 - set-up: false" "1..1" >want &&
	test_cmp want setup2.out && echo 1 >want && test_cmp want setup2.st
'
test_expect_success 'skip_all: at the top the plan says why; later it fails' '
	inner skip <<-\EOT &&
	. "${0%/*}/lib.sh"
	skip_all "no frobnicator here"
	test_expect_success "never" "false"
	test_done
	EOT
	echo "1..0 # SKIP no frobnicator here" >want &&
	test_cmp want skip.out && echo 0 >want && test_cmp want skip.st &&
	inner skiplate <<-\EOT &&
	. "${0%/*}/lib.sh"
	test_expect_success "one" "true"
	skip_all "too late"
	test_done
	EOT
	printf "%s\n" "ok 1 - one" \
		"not ok 2 - set-up: skip_all once tests have run: too late" "1..2" >want &&
	test_cmp want skiplate.out && echo 1 >want && test_cmp want skiplate.st &&
	inner skipin <<-\EOT &&
	. "${0%/*}/lib.sh"
	test_expect_success "skips inside" "skip_all inside"
	test_done
	EOT
	printf "%s\n" "not ok 1 - skips inside" "1..1" >want &&
	test_cmp want skipin.out && echo 1 >want && test_cmp want skipin.st
'
# running PID: the process PID runs (a zombie does not).
running() {
	case $(ps -o stat= -p "$1") in "" | Z*) return 1 ;; esac
}
test_expect_success 'a fake server started in one test is ended by the next' '
	start_fake ok && cp .fake-pid fake1.pid && running "$(cat fake1.pid)"
'
test_expect_success '(start_fake stops the previous fake first)' '
	start_fake ok && ! running "$(cat fake1.pid)" &&
	cp .fake-pid fake2.pid && running "$(cat fake2.pid)" && stop_fake &&
	! running "$(cat fake2.pid)" && test ! -e .fake-pid
'

# A machine whose node is older than 20, as Debian 12's nodejs (18).
mkdir -p node18
printf '#!/bin/sh\necho 18\n' >node18/node
printf '#!/bin/sh\necho 9.2.0\n' >node18/npm
chmod +x node18/node node18/npm

for t in 0520-identity 0530-e2ee-crash 0540-e2ee-js; do
	test_expect_success "$t without Node 20: skipped at once, saying why" "
		PATH=\$PWD/node18:\$PATH inner $t <\"\$MX_SRC/t/$t.t\" &&
		echo '1..0 # SKIP no Node 20 for the js peer: provision: Node 18 is older than 20' >want &&
		test_cmp want $t.out && echo 0 >want && test_cmp want $t.st
	"
done
test_expect_success '0541-e2ee-nio without matrix-nio: skipped at once' '
	export MX_TEST_CHROOT=$PWD/nochroot && inner 0541-e2ee-nio <"$MX_SRC/t/0541-e2ee-nio.t" &&
	echo "1..0 # SKIP no matrix-nio in $PWD/nochroot" >want &&
	test_cmp want 0541-e2ee-nio.out && echo 0 >want && test_cmp want 0541-e2ee-nio.st
'
test_done
