/*
 * keys-export: mx-keys export-identity (the device sealed for
 * MX_IDENTITY), and export and import of room keys in Element's format,
 * streamed (spec: "Key exports").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "b64.h"
#include "cli.h"
#include "conf.h"
#include "crypto.h"
#include "e2ee.h"
#include "file.h"
#include "identity.h"
#include "inbound.h"
#include "json.h"
#include "keyexport.h"
#include "keys.h"
#include "room.h"
#include "store.h"
#include "util.h"
#include "banned.h"

/* export-identity: the profile's device, sealed into one line for
 * MX_IDENTITY. */
int
keys_export_identity(struct mx_ctx *c, const struct keys_opt *o, int argc,
    char **argv, struct mx_err *e)
{
	struct mx_e2ee *x = NULL;
	char *pass = NULL, *acct = NULL, *b64 = NULL, *line = NULL;
	size_t n = 0;
	json_t *j;
	int rc = -1;

	(void)argc;
	(void)argv;
	if (mx_ctx_open(c, KEYS_OWN_STORE, e) != 0 ||
	    mx_e2ee_open(&x, c, e) != 0)
		goto out;
	pass = o->passphrase_file ?
	    mx_conf_read_secret_file(o->passphrase_file, e) :
	    mx_cli_read_secret("passphrase for the identity",
		!isatty(STDIN_FILENO), e);
	if (pass == NULL || mx_e2ee_account_pickle(x, &acct, &n, e) != 0)
		goto out;
	b64 = mx_b64_encdup(acct, n);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "homeserver",
	    c->sess.homeserver, "user_id", c->sess.user_id, "device_id",
	    c->sess.device_id, "access_token", c->sess.access_token, "account",
	    b64);
	line = mx_identity_seal(j, pass, e);
	json_decref(j);
	if (line != NULL && printf("%s\n", line) > 0 && fflush(stdout) == 0)
		rc = 0;
	else if (line != NULL)
		mx_err_set(e, MX_LOCAL, "cannot write to stdout");
out:
	if (line != NULL)
		mx_wipe(line, strlen(line));
	free(line);
	if (b64 != NULL)
		mx_wipe(b64, strlen(b64));
	free(b64);
	if (acct != NULL)
		mx_secure_free(acct);
	if (pass != NULL)
		mx_secure_free(pass);
	mx_e2ee_close(x);
	return rc;
}

/* The passphrase of --passphrase-file, or asked on the terminal (twice,
 * to be the same, when it seals a new file). */
static char *
export_pass(const struct keys_opt *o, int twice, struct mx_err *e)
{
	char *p, *again;

	if (o->passphrase_file)
		p = mx_conf_read_secret_file(o->passphrase_file, e);
	else if ((p = mx_cli_read_secret("passphrase for the room keys", 0,
		      e)) == NULL &&
	    e->status == MX_USAGE)
		mx_err_set(e, MX_USAGE,
		    "no terminal to ask for the passphrase; use "
		    "--passphrase-file FILE");
	if (p != NULL && p[0] == '\0') {
		mx_secure_free(p);
		mx_err_set(e, MX_USAGE, "the passphrase is empty");
		return NULL;
	}
	if (p == NULL || !twice || o->passphrase_file)
		return p;
	if ((again = mx_cli_read_secret("the same passphrase again", 0, e)) ==
	    NULL) {
		mx_secure_free(p);
		return NULL;
	}
	if (strcmp(p, again) != 0) {
		mx_secure_free(p);
		p = NULL;
		mx_err_set(e, MX_USAGE, "the passphrases differ");
	}
	mx_secure_free(again);
	return p;
}

/* The sessions of the --room rooms, or of all rooms, into arr. */
static int
export_sessions(struct mx_ctx *c, const struct keys_opt *o, json_t *arr,
    struct mx_err *e)
{
	char *room = NULL;
	size_t r;

	if (o->nroom == 0)
		return mx_inbound_export(c->store, NULL, arr, e);
	for (r = 0; r < o->nroom; r++) {
		if (mx_room_resolve(c, o->room[r], 0, &room, e) != 0 ||
		    mx_inbound_export(c->store, room, arr, e) != 0) {
			free(room);
			return -1;
		}
		free(room);
		room = NULL;
	}
	return 0;
}

/* export: the room keys held, in Element's format, to -o FILE or stdout. */
int
keys_export(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	json_t *arr = json_array(), *j;
	char *pass = NULL, *plain = NULL, *text = NULL;
	int rc = -1;

	(void)argc;
	(void)argv;
	if (o->output && access(o->output, F_OK) == 0) {
		mx_err_set(e, MX_LOCAL, "'%s' exists; not overwriting it",
		    o->output);
		goto out;
	}
	if (mx_ctx_open(c, KEYS_OWN_STORE, e) != 0 ||
	    export_sessions(c, o, arr, e) != 0 ||
	    (pass = export_pass(o, 1, e)) == NULL)
		goto out;
	plain = mx_json_compact(arr);
	text = mx_keyexport_encrypt(plain, strlen(plain), pass,
	    MX_KEYEXPORT_ROUNDS, e);
	if (text == NULL)
		goto out;
	if (o->output) {
		if (mx_file_put(o->output, text, 0, e) != 0)
			goto out;
		j = json_pack("{s:I}", "exported",
		    (json_int_t)json_array_size(arr));
		rc = mx_cli_print_json(j, e);
		json_decref(j);
	} else if (fputs(text, stdout) < 0 || fflush(stdout) != 0)
		mx_err_set(e, MX_LOCAL, "cannot write to stdout");
	else
		rc = 0;
	if (rc == 0)
		mx_cli_note(c, 1, "exported %zu room key(s)",
		    json_array_size(arr));
out:
	if (plain != NULL)
		mx_wipe(plain, strlen(plain));
	free(plain);
	free(text);
	mx_secure_free(pass);
	json_decref(arr);
	return rc;
}

/* The export file as a source read twice (keyexport.h). */
static long
file_read(void *u, char *buf, size_t n)
{
	size_t k = fread(buf, 1, n, u);

	return k == 0 && ferror((FILE *)u) ? -1 : (long)k;
}

static int
file_rewind(void *u)
{
	return fseek(u, 0, SEEK_SET);
}

/* FILE as is when it is a regular file; otherwise ("-" for standard
 * input, a pipe) copied into an unlinked temporary file (the text is
 * sealed: nothing readable lands on disk), to be read twice without
 * holding it in memory. */
static FILE *
open_import(const char *file, struct mx_err *e)
{
	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r"), *f;
	char chunk[8192];
	struct stat st;
	size_t k;

	if (in == NULL) {
		mx_err_set(e, MX_LOCAL, "cannot open '%s'", file);
		return NULL;
	}
	if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode) && in != stdin)
		return in;
	if ((f = tmpfile()) == NULL) {
		mx_err_set(e, MX_LOCAL, "cannot make a temporary file");
		goto out;
	}
	while ((k = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (fwrite(chunk, 1, k, f) != k)
			break;
	if (ferror(in) || ferror(f) || fflush(f) != 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		f = NULL;
		mx_err_set(e, MX_LOCAL, "cannot read '%s'", file);
	}
out:
	if (in != stdin)
		fclose(in);
	return f;
}

/* The sessions of one import, counted as they are kept. */
struct import {
	struct mx_store *st;
	struct mx_json_items items;
	size_t count[3];
};

static int
import_item(void *u, const json_t *item, struct mx_err *e)
{
	struct import *im = u;
	int rc = mx_inbound_import_one(im->st, item, e);

	if (rc < 0)
		return -1;
	im->count[rc]++;
	return 0;
}

static int
import_text(void *u, const char *p, size_t n, struct mx_err *e)
{
	struct import *im = u;

	return mx_json_items_feed(&im->items, p, n, import_item, im, e);
}

/* The header's round count checked, then the passphrase asked and the
 * whole file's MAC checked (nothing decrypted yet). */
static int
open_export(const struct keys_opt *o, const char *file,
    struct mx_keyexport_in *in, struct mx_err *e)
{
	enum mx_keyexport_why why = MX_KEYEXPORT_OK;
	uint32_t rounds = 0;
	char *pass;
	int rc;

	/* A forged header must not buy a long derivation (or a prompt). */
	if (mx_keyexport_in_head(in, &rounds, &why, e) != 0) {
		if (why == MX_KEYEXPORT_ROUNDS_BAD)
			return mx_err_set(e, MX_LOCAL,
			    "'%s' asks for %lu PBKDF2 rounds (at most %lu); "
			    "refused",
			    file, (unsigned long)rounds,
			    (unsigned long)MX_KEYEXPORT_MAX_ROUNDS);
		return mx_err_prefix(e, "'%s'", file);
	}
	if ((pass = export_pass(o, 0, e)) == NULL)
		return -1;
	rc = mx_keyexport_in_open(in, pass, &why, e);
	mx_secure_free(pass);
	if (rc != 0 && why == MX_KEYEXPORT_MAC)
		return mx_err_set(e, MX_NO,
		    "'%s': wrong passphrase, or the file is damaged", file);
	if (rc != 0)
		return mx_err_prefix(e, "'%s'", file);
	return 0;
}

/* Decrypt the opened file again and keep its sessions, in one
 * transaction, one session in memory at a time. */
static int
import_sessions(struct mx_ctx *c, const char *file, struct mx_keyexport_in *in,
    struct import *im, struct mx_err *e)
{
	im->st = c->store;
	if (mx_store_begin(c->store, e) != 0)
		return -1;
	if (mx_keyexport_in_read(in, import_text, im, e) != 0 ||
	    mx_json_items_end(&im->items, e) != 0) {
		mx_store_rollback(c->store);
		return e->status == MX_LOCAL ? mx_err_prefix(e, "'%s'", file) :
					       -1;
	}
	return mx_store_commit(c->store, e);
}

/* import FILE: the sessions of an export kept, none held replaced unless
 * extended backwards by the same device's keys.  The file is streamed:
 * memory stays flat whatever its size. */
int
keys_import(struct mx_ctx *c, const struct keys_opt *o, int argc, char **argv,
    struct mx_err *e)
{
	struct import im = { NULL, MX_JSON_ITEMS_INIT, { 0, 0, 0 } };
	struct mx_keyexport_src src = { file_read, file_rewind, NULL };
	struct mx_keyexport_in *in = NULL;
	json_t *j;
	FILE *f;
	int rc = -1;

	(void)argc;
	if ((f = open_import(argv[0], e)) == NULL)
		return -1;
	src.u = f;
	in = mx_keyexport_in_new(&src);
	if (mx_ctx_open(c, KEYS_OWN_STORE, e) == 0 &&
	    open_export(o, argv[0], in, e) == 0 &&
	    import_sessions(c, argv[0], in, &im, e) == 0) {
		j = json_pack("{s:I,s:I,s:I}", "imported",
		    (json_int_t)im.count[MX_INBOUND_NEW], "improved",
		    (json_int_t)im.count[MX_INBOUND_IMPROVED], "skipped",
		    (json_int_t)im.count[MX_INBOUND_SKIPPED]);
		rc = mx_cli_print_json(j, e);
		json_decref(j);
	}
	mx_json_items_release(&im.items);
	mx_keyexport_in_free(in);
	fclose(f);
	return rc;
}
