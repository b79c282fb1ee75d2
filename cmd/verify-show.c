/*
 * verify-show: what the user of mx-verify sas sees and says: the SAS
 * (spec: Client-Server API, "SAS method: emoji", "SAS method: decimal")
 * on the terminal, asked through libedit, or as one JSON line with the
 * answer read from stdin (--json); and the result line at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <editline/readline.h>
#include <jansson.h>

#include "cli.h"
#include "verify.h"
#include "sas.h"
#include "verify-cmd.h"
#include "banned.h"

/* The SAS as --json shows it. */
static json_t *
sas_json(struct verify_run *r)
{
	int em[MX_SAS_EMOJI], dec[MX_SAS_DECIMALS], forms, i;
	json_t *j =
	    json_pack("{s:s,s:s,s:s}", "transaction_id", r->txn, "other_user",
		r->them->user_id, "other_device", r->them->device_id);
	json_t *a;

	forms = mx_verify_sas(r->v, em, dec);
	if (forms & 1) {
		a = json_array();
		for (i = 0; i < MX_SAS_EMOJI; i++)
			json_array_append_new(a,
			    json_pack("{s:s,s:s}", "emoji",
				mx_sas_emoji(em[i]), "name",
				mx_sas_emoji_name(em[i])));
		json_object_set_new(j, "emoji", a);
	}
	if (forms & 2)
		json_object_set_new(j, "decimal",
		    json_pack("[i,i,i]", dec[0], dec[1], dec[2]));
	return j;
}

/* The answer read: 1 yes, 0 no, -1 none (end of input). */
static int
answer(const char *line)
{
	if (line == NULL)
		return -1;
	return strcmp(line, "yes") == 0 || strcmp(line, "y") == 0 ||
	    strcmp(line, "Y") == 0;
}

/* --json: the SAS line, then "yes" or "no" from stdin. */
static int
ask_json(struct verify_run *r, struct mx_err *e)
{
	char line[64];
	json_t *j = sas_json(r);
	int rc = mx_cli_print_json(j, e);

	json_decref(j);
	if (rc != 0)
		return -1;
	if (fgets(line, sizeof(line), stdin) == NULL)
		return -1;
	line[strcspn(line, "\r\n")] = '\0';
	return answer(line);
}

/* On a terminal: the emoji with their names (and the numbers), then the
 * question, through libedit. */
static int
ask_terminal(struct verify_run *r)
{
	int em[MX_SAS_EMOJI], dec[MX_SAS_DECIMALS], forms, i, a;
	char *line;

	forms = mx_verify_sas(r->v, em, dec);
	fprintf(stderr, "Compare with what %s's device %s shows:\n",
	    r->them->user_id, r->them->device_id);
	if (forms & 1) {
		for (i = 0; i < MX_SAS_EMOJI; i++)
			fprintf(stderr, "  %s  %s\n", mx_sas_emoji(em[i]),
			    mx_sas_emoji_name(em[i]));
	}
	if ((forms & 2) && (r->o->decimal || !(forms & 1)))
		fprintf(stderr, "  %d %d %d\n", dec[0], dec[1], dec[2]);
	rl_outstream = stderr; /* stdout carries the result line */
	line = readline("Do they match? [y/N] ");
	a = answer(line);
	free(line);
	return a;
}

/* The result line, and the verdict: 0 verified, -1 with e (MX_NO) when
 * cancelled. */
int
verify_result(struct verify_run *r, struct mx_err *e)
{
	int done = mx_verify_state(r->v) == MX_VERIFY_DONE;
	json_t *j = json_pack("{s:s,s:s,s:o,s:b}", "transaction_id", r->txn,
	    "other_user", r->user, "other_device",
	    r->them ? json_string(r->them->device_id) : json_null(),
	    "verified", done);
	int rc;

	if (r->room != NULL)
		json_object_set_new(j, "room_id", json_string(r->room));
	if (done)
		json_object_set_new(j, "master_verified",
		    json_boolean(mx_verify_master_verified(r->v)));
	if (done && r->signed_master)
		json_object_set_new(j, "master_signed", json_true());
	if (done && r->signed_device)
		json_object_set_new(j, "device_signed", json_true());
	if (done && r->secrets)
		json_object_set(j, "secrets", r->secrets);
	if (!done)
		json_object_set_new(j, "cancel",
		    json_pack("{s:s,s:s,s:s}", "code",
			mx_verify_cancel_code(r->v), "reason",
			mx_verify_cancel_reason(r->v), "by",
			mx_verify_cancelled_by_them(r->v) ? "them" : "us"));
	rc = mx_cli_print_json(j, e);
	json_decref(j);
	if (rc != 0 || done)
		return rc;
	return mx_err_set(e, MX_NO, "verification %s by %s: %s%s%s%s",
	    "cancelled", mx_verify_cancelled_by_them(r->v) ? "them" : "us",
	    mx_verify_cancel_code(r->v),
	    *mx_verify_cancel_reason(r->v) ? " (" : "",
	    mx_verify_cancel_reason(r->v),
	    *mx_verify_cancel_reason(r->v) ? ")" : "");
}

int
verify_ask(struct verify_run *r, struct mx_err *e)
{
	return r->o->json ? ask_json(r, e) : ask_terminal(r);
}
