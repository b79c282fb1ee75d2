#!/bin/sh
# The test harness itself: the homeserver answers, users register, the
# helpers report failures instead of hiding them.
. "${0%/*}/lib.sh"
need_homeserver

test_expect_success 'homeserver answers /versions' '
	curl -sf "$MX_TEST_HOMESERVER/_matrix/client/versions" | jq -e .versions
'
test_expect_success 'register_user makes a user with a working token' '
	register_user alice &&
	api "$alice_token" GET /_matrix/client/v3/account/whoami >who &&
	test "$(jq -r .user_id who)" = "$alice_id"
'
test_expect_success 'create_room and send_text' '
	room=$(create_room "$alice_token") &&
	case $room in !*) ;; *) false ;; esac &&
	eid=$(send_text "$alice_token" "$room" hello) &&
	api "$alice_token" GET "/_matrix/client/v3/rooms/$(urlenc "$room")/event/$(urlenc "$eid")" >ev &&
	test "$(jq -r .content.body ev)" = hello
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
test_done
