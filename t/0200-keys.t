#!/bin/sh
# mx-keys login, logout, whoami: sessions, profiles, permissions, the
# environment session, discovery and exit statuses.
. "${0%/*}/lib.sh"
need_homeserver

HS=$MX_TEST_HOMESERVER
WHOAMI=/_matrix/client/v3/account/whoami

# http_code TOKEN PATH: the HTTP status of GET PATH with TOKEN.
http_code() {
	printf 'header = "Authorization: Bearer %s"\n' "$1" |
		curl -s -o /dev/null -w '%{http_code}' -K - "$HS$2"
}

# session_json USER DEVICE: the line login and whoami print.
session_json() {
	jq -nc --arg u "$1" --arg d "$2" --arg h "$HS" \
		'{user_id:$u,device_id:$d,homeserver:$h}'
}

# session_of FILE: the session part of a whoami line (which also has the
# device's fingerprint once its keys are up).
session_of() {
	jq -c '{user_id,device_id,homeserver}' "$1"
}

# no_clear_token PROFILE STRING: STRING is in no file of the profile.
no_clear_token() {
	! grep -rqF -- "$2" "$MX_DIR/$1"
}

for u in alice bob carol dave eve; do
	setup register_user $u
done

# alice.session: what alice's login printed, for the tests after it.
test_expect_success 'login with --password-stdin prints the session' '
	login_profile alice >alice.session &&
	dev=$(jq -r .device_id alice.session) && test -n "$dev" &&
	session_json "$alice_id" "$dev" >want && test_cmp want alice.session
'

test_expect_success 'profile directory 0700, store files 0600' '
	test "$(stat -c %a "$MX_DIR/alice")" = 700 &&
	test "$(stat -c %a "$MX_DIR/alice/store.db")" = 600 &&
	test "$(stat -c %a "$MX_DIR/alice/store.key")" = 600
'

test_expect_success 'the access token is not stored in clear' '
	test -s "$MX_DIR/alice/store.db" &&
	no_clear_token alice syt_ &&
	no_clear_token alice "$alice_pw"
'

test_expect_success 'whoami prints the same session' '
	mx-keys -p alice whoami >who &&
	session_of who >got && test_cmp alice.session got
'

test_expect_success 'options may follow the subcommand' '
	mx-keys whoami -p alice >who2 && session_of who2 >got &&
	test_cmp alice.session got
'

test_expect_success 'the device gets the default name' '
	api "$alice_token" GET "/_matrix/client/v3/devices/$(jq -r .device_id alice.session)" |
		jq -r .display_name >name &&
	echo "mx (profile alice) on $(hostname)" >want && test_cmp want name
'

test_expect_success '--device-name names the device' '
	printf "%s\n" "$bob_pw" | mx-keys -p bobdev login -u "$bob_id" \
		--homeserver "$HS" --password-stdin --device-name "ci runner" \
		>bout &&
	api "$bob_token" GET \
		"/_matrix/client/v3/devices/$(jq -r .device_id bout)" |
		jq -r .display_name >name &&
	echo "ci runner" >want && test_cmp want name
'

test_expect_success 'wrong password: exit 3 and the server error' '
	echo nope | test_expect_code 3 mx-keys -p wrong login -u "$alice_id" \
		--homeserver "$HS" --password-stdin >out 2>err &&
	! test -s out &&
	q="'"'"'" &&
	echo "mx-keys: cannot log in as $q$alice_id$q:" \
		"M_FORBIDDEN: Invalid username or password" >want &&
	test_cmp want err
'

test_expect_success 'wrong password stores no session' '
	test_expect_code 2 mx-keys -p wrong whoami 2>err &&
	grep -q "not logged in" err
'

test_expect_success 'homeserver down: exit 4' '
	echo pw | test_expect_code 4 mx-keys -p down login -u @x:localhost \
		--homeserver http://127.0.0.1:1 --password-stdin 2>err &&
	grep -q "^mx-keys: " err
'

test_expect_success 'login --token-stdin asks whoami for user and device' '
	printf "%s\n" "$carol_token" |
		mx-keys -p carol login --token-stdin --homeserver "$HS" >out &&
	session_json "$carol_id" "$carol_device" >want && test_cmp want out &&
	no_clear_token carol "$carol_token"
'

test_expect_success '--token-stdin with a dead token: exit 3, nothing stored' '
	echo syt_not_a_token | test_expect_code 3 mx-keys -p dead login \
		--token-stdin --homeserver "$HS" 2>err &&
	grep -q "M_UNKNOWN_TOKEN" err &&
	test_expect_code 2 mx-keys -p dead whoami 2>/dev/null
'

test_expect_success '--token-stdin for another user than -u is refused' '
	printf "%s\n" "$carol_token" | test_expect_code 2 mx-keys -p other \
		login --token-stdin -u "$alice_id" --homeserver "$HS" 2>err &&
	grep -q "belongs to" err
'

test_expect_success 'a second login is refused without --force' '
	test_expect_code 2 login_profile alice >out 2>err &&
	grep -q "already logged in as $alice_id" err &&
	mx-keys -p alice whoami >who && session_of who >got &&
	test_cmp alice.session got
'

test_expect_success '--force logs the old session out first' '
	printf "%s\n" "$carol_token" >old &&
	printf "%s\n" "$carol_pw" | mx-keys -p carol login -u "$carol_id" \
		--homeserver "$HS" --password-stdin --force >out &&
	test "$(jq -r .user_id out)" = "$carol_id" &&
	test "$(jq -r .device_id out)" != "$carol_device" &&
	test "$(http_code "$carol_token" "$WHOAMI")" = 401
'

test_expect_success 'logout invalidates the token on the server' '
	printf "%s\n" "$dave_token" |
		mx-keys -p dave login --token-stdin --homeserver "$HS" &&
	mx-keys -p dave logout >out 2>err &&
	! test -s out &&
	test "$(http_code "$dave_token" "$WHOAMI")" = 401
'

test_expect_success 'whoami after logout: exit 2, not logged in' '
	test_expect_code 2 mx-keys -p dave whoami >out 2>err &&
	echo "mx-keys: not logged in; run mx-keys login -p dave" >want &&
	test_cmp want err
'

test_expect_success 'logout again: exit 2, not logged in' '
	test_expect_code 2 mx-keys -p dave logout 2>err &&
	grep -q "not logged in" err
'

test_expect_success 'a token dead on the server: whoami exits 3' '
	register_user frank &&
	printf "%s\n" "$frank_token" |
		mx-keys -p frank login --token-stdin --homeserver "$HS" &&
	api "$frank_token" POST /_matrix/client/v3/logout "{}" &&
	test_expect_code 3 mx-keys -p frank whoami 2>err &&
	grep -q "M_UNKNOWN_TOKEN" err
'

test_expect_success 'logout of a dead token still clears the session' '
	mx-keys -p frank logout 2>err &&
	grep -q "no longer knew the token" err &&
	test_expect_code 2 mx-keys -p frank whoami 2>/dev/null
'

test_expect_success 'a group-readable profile directory is refused' '
	chmod 750 "$MX_DIR/alice" &&
	test_expect_code 5 mx-keys -p alice whoami >out 2>err &&
	chmod 700 "$MX_DIR/alice" &&
	q="'"'"'" &&
	echo "mx-keys: profile directory $q$MX_DIR/alice$q is" \
		"accessible by others; chmod 700 it" >want &&
	test_cmp want err
'

test_expect_success 'a world-readable store is refused' '
	chmod 604 "$MX_DIR/alice/store.db" &&
	test_expect_code 5 mx-keys -p alice whoami 2>err &&
	chmod 600 "$MX_DIR/alice/store.db" &&
	grep -q "accessible by others; chmod 600 it" err &&
	mx-keys -p alice whoami >/dev/null
'

test_expect_success 'MX_ACCESS_TOKEN + MX_HOMESERVER: whoami without a store' '
	MX_ACCESS_TOKEN=$eve_token MX_HOMESERVER=$HS/ mx-keys -p envonly \
		whoami >out &&
	session_json "$eve_id" "$eve_device" >want && test_cmp want out &&
	! test -e "$MX_DIR/envonly"
'

test_expect_success 'the environment session wins over the profile' '
	MX_ACCESS_TOKEN=$eve_token MX_HOMESERVER=$HS mx-keys -p alice \
		whoami >out &&
	test "$(jq -r .user_id out)" = "$eve_id"
'

test_expect_success 'MX_ACCESS_TOKEN without MX_HOMESERVER: exit 2' '
	MX_ACCESS_TOKEN=$eve_token test_expect_code 2 mx-keys whoami 2>err &&
	grep -q "MX_HOMESERVER" err
'

test_expect_success 'profiles are independent; MX_PROFILE picks one' '
	mx-keys -p alice whoami | jq -r .user_id >a &&
	mx-keys -p bobdev whoami | jq -r .user_id >b &&
	MX_PROFILE=bobdev mx-keys whoami | jq -r .user_id >c &&
	echo "$alice_id" >wa && echo "$bob_id" >wb &&
	test_cmp wa a && test_cmp wb b && test_cmp wb c
'

test_expect_success 'a bad profile name is a usage error' '
	test_expect_code 2 mx-keys -p ../x whoami 2>err &&
	grep -q "bad profile name" err &&
	test_expect_code 2 mx-keys -p .hidden whoami 2>/dev/null
'

test_expect_success 'discovery of the homeserver through .well-known' '
	register_user gina &&
	curl -sf "http://$MX_TEST_SERVER_NAME/.well-known/matrix/client" |
		jq -r ".\"m.homeserver\".base_url" | sed "s|/*\$||" >want &&
	test -s want &&
	printf "%s\n" "$gina_pw" |
		mx-keys -p gina login -u "$gina_id" --password-stdin >out &&
	jq -r .homeserver out >got && test_cmp want got &&
	mx-keys -p gina whoami | jq -r .user_id >got &&
	echo "$gina_id" >want && test_cmp want got
'

test_expect_success 'a bare user name needs --homeserver' '
	echo pw | test_expect_code 2 mx-keys -p bare login -u someone \
		--password-stdin 2>err &&
	grep -q "needs --homeserver" err
'

test_expect_success 'a bare user name with --homeserver logs in' '
	register_user hank &&
	local=${hank_id%%:*} && local=${local#@} &&
	printf "%s\n" "$hank_pw" | mx-keys -p hank login -u "$local" \
		--homeserver "$HS" --password-stdin >out &&
	test "$(jq -r .user_id out)" = "$hank_id"
'

test_expect_success 'usage errors: exit 2' '
	test_expect_code 2 mx-keys 2>/dev/null &&
	test_expect_code 2 mx-keys frobnicate 2>/dev/null &&
	test_expect_code 2 mx-keys whoami extra 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice whoami --force 2>/dev/null &&
	test_expect_code 2 mx-keys login --password-stdin --token-stdin \
		-u "$alice_id" 2>/dev/null &&
	test_expect_code 2 mx-keys -p none login --password-stdin \
		2>/dev/null </dev/null
'

test_expect_success 'no password on stdin: usage error, nothing sent' '
	start_fake ok &&
	test_expect_code 2 mx-keys -p empty login -u "$alice_id" \
		--homeserver "$FAKE" --password-stdin </dev/null 2>err &&
	echo "mx-keys: no secret on input" >want && test_cmp want err &&
	test ! -s fake.log
'


test_expect_success 'devices marks the current device; the default name says mx, profile and host' '
	register_user erin &&
	login_profile erin >/dev/null &&
	env -u MX_ACCESS_TOKEN -u MX_HOMESERVER mx-keys -p erin devices >devs &&
	jq -s -e "map(select(.current == true)) | length == 1" devs &&
	jq -r "select(.current) | .display_name" devs >got &&
	echo "mx (profile erin) on $(hostname)" >want && test_cmp want got &&
	jq -r "select(.current) | .device_id" devs >erin.dev
'

test_expect_success 'rename DEVICE NAME: the new name is listed' '
	dev=$(cat erin.dev) &&
	env -u MX_ACCESS_TOKEN -u MX_HOMESERVER mx-keys -p erin rename "$dev" "erin laptop" >out &&
	jq -e ".device_id == \"$dev\" and .display_name == \"erin laptop\"" out &&
	env -u MX_ACCESS_TOKEN -u MX_HOMESERVER mx-keys -p erin devices >devs &&
	jq -r "select(.current) | .display_name" devs >got &&
	echo "erin laptop" >want && test_cmp want got
'

test_expect_success 'rename a device that is not ours: 3' '
	test_expect_code 3 env -u MX_ACCESS_TOKEN -u MX_HOMESERVER \
		mx-keys -p erin rename NOSUCHDEVICE x 2>err &&
	grep -q "no device .NOSUCHDEVICE. of ours" err
'

# A session the server ended (every device logged out elsewhere): the
# error says what to run.
test_expect_success 'a dead token: exit 3, with the command that logs in again' '
	register_user dora &&
	login_profile dora >/dev/null &&
	api "$dora_token" POST /_matrix/client/v3/logout/all "{}" >/dev/null &&
	test_expect_code 3 env -u MX_ACCESS_TOKEN -u MX_HOMESERVER \
		mx-sync -p dora 2>err &&
	grep -q "M_UNKNOWN_TOKEN.*; the session has ended: log in again with mx-keys -p dora login --force -u $dora_id\$" err
'


test_expect_success 'a mistyped -p NAME: exit 5 naming the profiles, nothing made' '
	test_expect_code 5 env -u MX_ACCESS_TOKEN -u MX_HOMESERVER \
		mx-sync -p dorra 2>err &&
	grep -q "^mx-sync: no profile .dorra. (profiles: .*dora.*); mx-keys -p dorra login makes it\$" err &&
	test ! -e "$MX_DIR/dorra" &&
	test_expect_code 5 env -u MX_ACCESS_TOKEN -u MX_HOMESERVER \
		mx-keys -p dorra devices 2>err &&
	test ! -e "$MX_DIR/dorra"
'

test_done
