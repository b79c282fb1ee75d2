#!/bin/sh
# mx-keys delete: our own devices go through POST /delete_devices with
# user-interactive authentication (spec: "Device management",
# "User-interactive authentication API"), the password from stdin.
. "${0%/*}/lib.sh"
need_homeserver

setup register_user alice
setup login_profile alice
# login_as PROFILE NAME: another device of alice's, in PROFILE.
login_as() {
	printf '%s\n' "$alice_pw" |
		mx-keys -p "$1" login --homeserver "$MX_TEST_HOMESERVER" \
			-u "$alice_id" --password-stdin --device-name "$2"
}
for n in 2 3 4; do
	setup login_as alice$n "old bot $n"
done

# devices FILE: alice's device ids now, sorted, as the server says.
devices() {
	api "$alice_token" GET /_matrix/client/v3/devices |
		jq -r ".devices[].device_id" | sort >"$1"
}
dev_of() {
	mx-keys -p "$1" whoami | jq -r .device_id
}
pw() {
	printf "%s\n" "$alice_pw"
}

test_expect_success 'setup: alice has five devices' '
	devices before && test $(wc -l <before) = 5 &&
	for p in alice alice2 alice3 alice4; do dev_of $p; done >ids &&
	test $(sort -u ids | wc -l) = 4
'

test_expect_success '--dry-run: the line, nothing deleted, no password asked' '
	d2=$(dev_of alice2) &&
	mx-keys -p alice delete --dry-run "$d2" >out &&
	jq -e --arg d "$d2" ".device_id == \$d and .deleted == false and .display_name == \"old bot 2\" and (.last_seen_ts | type) == \"number\"" out &&
	test $(wc -l <out) = 1 &&
	devices now && test_cmp before now
'

test_expect_success 'a wrong password: 3, one line, nothing deleted' '
	d2=$(dev_of alice2) &&
	printf "not the password\n" >bad &&
	test_expect_code 3 mx-keys -p alice delete --password-stdin "$d2" <bad >out 2>err &&
	test ! -s out && test $(wc -l <err) = 1 &&
	grep -q "^mx-keys: cannot delete devices: the server refused the password" err &&
	devices now && test_cmp before now
'

test_expect_success 'no password on a terminal nor stdin: refused, nothing deleted' '
	d2=$(dev_of alice2) &&
	test_must_fail mx-keys -p alice delete "$d2" </dev/null >out 2>err &&
	test ! -s out && devices now && test_cmp before now
'

test_expect_success 'an unknown device: 3 before any request to delete' '
	test_expect_code 3 mx-keys -p alice -vv delete --password-stdin NOSUCHDEV <bad >out 2>err &&
	grep -q "^mx-keys: no device .NOSUCHDEV. of ours" err &&
	! grep -q delete_devices err
'

test_expect_success 'the current device without --force: 2, nothing deleted' '
	d1=$(dev_of alice) && d2=$(dev_of alice2) &&
	pw >pwfile &&
	test_expect_code 2 mx-keys -p alice delete --password-stdin "$d2" "$d1" <pwfile >out 2>err &&
	grep -q "this profile.s own device; use --force" err &&
	devices now && test_cmp before now
'

test_expect_success 'delete two devices: one JSON line each, gone from the server' '
	d2=$(dev_of alice2) && d3=$(dev_of alice3) &&
	pw | mx-keys -p alice delete --password-stdin "$d2" "$d3" >out &&
	jq -s -e --arg a "$d2" --arg b "$d3" "map(.device_id) == [\$a, \$b] and all(.[]; .deleted == true)" out &&
	devices now && grep -vx -e "$d2" -e "$d3" before >want && test_cmp want now &&
	test_expect_code 3 mx-keys -p alice2 whoami 2>/dev/null
'

test_expect_success '--older-than 1: nothing was last seen a day ago' '
	mx-keys -p alice delete --older-than 1 </dev/null >out &&
	test ! -s out
'

test_expect_success '--older-than 0 --dry-run: every device seen before now but this one' '
	d1=$(dev_of alice) &&
	sleep 1 &&
	mx-keys -p alice delete --older-than 0 --dry-run >out &&
	jq -r "select(.deleted == false) | .device_id" out | sort >got &&
	api "$alice_token" GET /_matrix/client/v3/devices |
		jq -r --arg d "$d1" ".devices[] | select(.last_seen_ts != null and .device_id != \$d) | .device_id" |
		sort >want &&
	test_cmp want got && test -s got
'

test_expect_success '--older-than 0 --dry-run --force: this device too, when it was seen' '
	sleep 1 &&
	mx-keys -p alice delete --older-than 0 --dry-run --force >out &&
	jq -r .device_id out | sort >got &&
	api "$alice_token" GET /_matrix/client/v3/devices |
		jq -r ".devices[] | select(.last_seen_ts != null) | .device_id" |
		sort >want &&
	test_cmp want got && grep -qx "$(dev_of alice)" got
'

test_expect_success 'usage: DEVICE or --older-than, one of them; options for delete only' '
	test_expect_code 2 mx-keys -p alice delete 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice delete --older-than 3 X 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice delete --older-than -3 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice delete --older-than 3x 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice whoami --dry-run 2>/dev/null &&
	test_expect_code 2 mx-keys -p alice whoami --force 2>/dev/null
'

test_expect_success '--force deletes the current device and logs the profile out' '
	d4=$(dev_of alice4) &&
	pw | mx-keys -p alice4 delete --force --password-stdin "$d4" >out &&
	jq -e --arg d "$d4" ".device_id == \$d and .deleted" out &&
	devices now && ! grep -qx "$d4" now &&
	test_expect_code 2 mx-keys -p alice4 whoami 2>err
'

test_done
