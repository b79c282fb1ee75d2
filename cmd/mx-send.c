/*
 * mx-send: send messages, files, relations, redactions or raw events into
 * a room; print one {"room_id","event_id","txn_id"} line per event sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>
#include <jansson.h>

#include "api.h"
#include "attach.h"
#include "cli.h"
#include "conf.h"
#include "e2ee.h"
#include "json.h"
#include "msg.h"
#include "room.h"
#include "store.h"
#include "txn.h"
#include "util.h"
#include "banned.h"

enum {
	O_HTML = MX_OPT_LONG,
	O_CODE,
	O_REPLY,
	O_THREAD,
	O_EDIT,
	O_REACT,
	O_REDACT,
	O_REASON,
	O_JSON,
	O_JOIN,
	O_LINES,
	O_STRICT,
	O_NAME,
	O_TRUST,
	O_REQUIRE_ENC,
	O_ALLOW_PLAIN,
};

static const struct mx_opt opts[] = {
	{ 'm', "markdown", NULL, "TEXT is CommonMark: send it as HTML too",
	    0 },
	{ O_HTML, "html", NULL, "TEXT is HTML", 0 },
	{ O_CODE, "code", "LANG", "send TEXT as a code block in LANG", 0 },
	{ 'n', "notice", NULL, "send an m.notice (for bots)", 0 },
	{ 'e', "emote", NULL, "send an m.emote (/me)", 0 },
	{ 'f', "file", "PATH",
	    "upload the file PATH (-: stdin) and send it, TEXT its caption",
	    0 },
	{ O_NAME, "name", "NAME", "the file's name (default: PATH's)", 0 },
	{ O_REPLY, "reply-to", "EVENT", "reply to EVENT", 0 },
	{ O_THREAD, "thread", "ROOT", "send into the thread of ROOT", 0 },
	{ O_EDIT, "edit", "EVENT", "replace EVENT's text with TEXT", 0 },
	{ O_REACT, "react", "EVENT", "react to EVENT with the key TEXT", 0 },
	{ O_REDACT, "redact", "EVENT", "redact (remove) EVENT", 0 },
	{ O_REASON, "reason", "TEXT", "the reason of --redact", 0 },
	{ O_JSON, "json", NULL,
	    "send each stdin line: JSON content or {type,content}", 0 },
	{ O_LINES, "lines", NULL, "send each line of stdin as it arrives", 0 },
	{ O_STRICT, "strict", NULL,
	    "--lines: stop at a line that is not UTF-8 text", 0 },
	{ O_JOIN, "join", NULL, "join the room first (invited or public)", 0 },
	{ O_TRUST, "trust", "POLICY",
	    "encrypted rooms: keys to tofu (default), verified or all "
	    "devices",
	    0 },
	{ O_REQUIRE_ENC, "require-encryption", NULL,
	    "refuse a room that is not encrypted (MX_IDENTITY's default)", 0 },
	{ O_ALLOW_PLAIN, "allow-plaintext", NULL,
	    "with MX_IDENTITY: send into a room that is not encrypted", 0 },
	MX_OPT_END
};

static const struct mx_cli cli = {
	"mx-send",
	"[options] ROOM [TEXT...]",
	"Send text, files, relations or raw events into a Matrix room.",
	opts,
};

struct opt {
	enum mx_msg_type type;
	enum mx_msg_fmt fmt;
	const char *lang, *file, *reply, *thread, *edit, *react, *redact;
	const char *reason, *name;
	int json, lines, strict, join, nfmt, ntype;
	int require_enc; /* 1: asked for; 2: implied by MX_IDENTITY */
	int allow_plain;
	enum mx_e2ee_policy trust;
};

struct send {
	struct mx_ctx *c;
	const struct opt *o;
	char *room_id;
	char *latest;	   /* the thread's latest event (--thread) */
	json_t *enc;	   /* m.room.encryption content, or NULL */
	struct mx_e2ee *x; /* when the room is encrypted */
};

static int
opt_fn(void *u, int id, const char *arg)
{
	struct opt *o = u;

	switch (id) {
	case 'm':
		o->fmt = MX_FMT_MARKDOWN;
		o->nfmt++;
		break;
	case O_HTML:
		o->fmt = MX_FMT_HTML;
		o->nfmt++;
		break;
	case O_CODE:
		o->fmt = MX_FMT_CODE;
		o->lang = arg;
		o->nfmt++;
		break;
	case 'n':
		o->type = MX_MSG_NOTICE;
		o->ntype++;
		break;
	case 'e':
		o->type = MX_MSG_EMOTE;
		o->ntype++;
		break;
	case 'f':
		o->file = arg;
		break;
	case O_REPLY:
		o->reply = arg;
		break;
	case O_THREAD:
		o->thread = arg;
		break;
	case O_EDIT:
		o->edit = arg;
		break;
	case O_REACT:
		o->react = arg;
		break;
	case O_REDACT:
		o->redact = arg;
		break;
	case O_REASON:
		o->reason = arg;
		break;
	case O_JSON:
		o->json = 1;
		break;
	case O_LINES:
		o->lines = 1;
		break;
	case O_NAME:
		o->name = arg;
		break;
	case O_STRICT:
		o->strict = 1;
		break;
	case O_JOIN:
		o->join = 1;
		break;
	case O_REQUIRE_ENC:
		o->require_enc = 1;
		break;
	case O_ALLOW_PLAIN:
		o->allow_plain = 1;
		break;
	case O_TRUST:
		if (strcmp(arg, "tofu") == 0)
			o->trust = MX_E2EE_TOFU;
		else if (strcmp(arg, "verified") == 0)
			o->trust = MX_E2EE_VERIFIED;
		else if (strcmp(arg, "all") == 0)
			o->trust = MX_E2EE_ALL;
		else
			mx_cli_usage(&cli,
			    "--trust wants tofu, verified or all");
		break;
	default:
		return -1;
	}
	return 0;
}

/* Usage errors that the option table alone cannot see. */
static void
check_opts(const struct opt *o, int ntext)
{
	int modes = !!o->file + !!o->react + !!o->redact + o->json;
	const char *base;

	if (o->nfmt > 1)
		mx_cli_usage(&cli,
		    "--markdown, --html and --code exclude each other");
	if (o->ntype > 1)
		mx_cli_usage(&cli, "--notice and --emote exclude each other");
	if (modes > 1)
		mx_cli_usage(&cli,
		    "--file, --react, --redact and --json exclude each other");
	if ((o->redact || o->json) && ntext > 0)
		mx_cli_usage(&cli, "TEXT is not used with --redact or --json");
	if (o->name && !o->file)
		mx_cli_usage(&cli, "--name needs --file");
	if (o->name && (strchr(o->name, '/') || o->name[0] == '\0'))
		mx_cli_usage(&cli, "--name is a file name, without '/'");
	if (modes && (o->lines || o->nfmt || o->ntype || o->edit))
		mx_cli_usage(&cli,
		    "--file, --react, --redact and --json take no text "
		    "options");
	if ((o->react || o->redact || o->json) && (o->reply || o->thread))
		mx_cli_usage(&cli, "--reply-to and --thread need a message");
	if (o->edit && (o->reply || o->thread))
		mx_cli_usage(&cli, "--edit excludes --reply-to and --thread");
	if (o->reason && !o->redact)
		mx_cli_usage(&cli, "--reason needs --redact");
	if (o->require_enc && o->allow_plain)
		mx_cli_usage(&cli,
		    "--require-encryption and --allow-plaintext exclude each "
		    "other");
	if (o->strict && !o->lines)
		mx_cli_usage(&cli, "--strict needs --lines");
	if (o->lines && ntext > 0)
		mx_cli_usage(&cli, "--lines reads stdin: no TEXT operand");
	base = o->file ? strrchr(o->file, '/') : NULL;
	base = o->name ? o->name : base ? base + 1 : o->file;
	if (base != NULL && !mx_utf8_valid(base, strlen(base)))
		mx_cli_usage(&cli,
		    "--file: the name, sent as the body, is not UTF-8 text");
}

/* Print the output line of one event sent. */
static int
print_sent(const char *room_id, const char *event_id, const char *txn,
    struct mx_err *e)
{
	json_t *j = json_pack("{s:s,s:s,s:s}", "room_id", room_id, "event_id",
	    event_id, "txn_id", txn);
	int rc = mx_cli_print_json(j, e);

	json_decref(j);
	return rc;
}

/*
 * Send content encrypted: the room's keys are brought up to date first
 * (a device added or a member gone since the last send), then the event
 * leaves as m.room.encrypted under the same txn id, so a retried send is
 * still deduplicated by the server.
 */
static int
send_encrypted(struct send *s, const char *type, const char *txn,
    const json_t *content, char **eid, struct mx_err *e)
{
	json_t *env = NULL;
	int rc;

	rc = mx_e2ee_refresh(s->x, s->room_id, e);
	if (rc == 0)
		rc = mx_e2ee_encrypt(s->x, s->room_id, s->enc, s->o->trust,
		    type, content, &env, e);
	if (rc == 0)
		rc = mx_api_send(&s->c->api, s->room_id, "m.room.encrypted",
		    txn, env, eid, e);
	json_decref(env);
	return rc;
}

/* Send one event (content borrowed); print its line. */
static int
send_event(struct send *s, const char *type, const json_t *content,
    struct mx_err *e)
{
	struct mx_ctx *c = s->c;
	char *key, *txn, *eid = NULL;
	size_t n;
	int rc, owned;

	/* In an encrypted room the server sees, and limits, the ciphertext:
	 * a third larger, and more. */
	n = s->x != NULL && strcmp(type, "m.room.redaction") != 0 ?
	    mx_e2ee_event_size(s->x, s->room_id, c->sess.user_id, type,
		content) :
	    mx_msg_event_size(s->room_id, c->sess.user_id, type, content);
	if (n == 0)
		return mx_err_set(e, MX_LOCAL,
		    "the event cannot be encoded as JSON");
	if (n > MX_MSG_PDU_LIMIT)
		return mx_err_set(e, MX_LOCAL,
		    "message too large (%zu bytes%s; the limit is %d)", n,
		    s->x != NULL ? " encrypted" : "", MX_MSG_PDU_LIMIT);
	key = mx_msg_txn_key(s->room_id, type, content);
	if ((txn = mx_txn_begin(c->store, key, &owned, e)) == NULL) {
		free(key);
		return -1;
	}
	if (strcmp(type, "m.room.redaction") == 0)
		rc = mx_api_redact(&c->api, s->room_id, s->o->redact, txn,
		    s->o->reason, &eid, e);
	else if (s->x != NULL)
		rc = send_encrypted(s, type, txn, content, &eid, e);
	else
		rc = mx_api_send(&c->api, s->room_id, type, txn, content, &eid,
		    e);
	if (rc != 0)
		mx_err_prefix(e, "cannot send to '%s'", s->room_id);
	else if (owned)
		mx_txn_end(c->store, key);
	if (rc == 0)
		rc = print_sent(s->room_id, eid, txn, e);
	if (rc == 0 && s->o->thread) {
		free(s->latest);
		s->latest = mx_xstrdup(eid);
	}
	free(eid);
	free(txn);
	free(key);
	return rc;
}

/* The event a relation points to (opt names the option) must be one of
 * the room's: a reply to nothing would be sent and read as a reply to
 * something the reader cannot see. */
static int
check_target(struct send *s, const char *eid, const char *opt,
    struct mx_err *e)
{
	json_t *ev = NULL;

	if (eid == NULL)
		return 0;
	if (mx_api_get_event(&s->c->api, s->room_id, eid, &ev, e) == 0) {
		json_decref(ev);
		return 0;
	}
	if (e->http == 404)
		return mx_err_set(e, MX_PERM, "%s: no event '%s' in '%s'", opt,
		    eid, s->room_id);
	return mx_err_prefix(e, "%s: cannot read '%s'", opt, eid);
}

/* The latest event of the thread of root, else root itself. */
static char *
thread_latest(struct mx_ctx *c, const char *room_id, const char *root)
{
	const char *id;
	json_t *j = NULL;
	struct mx_err e;
	char *out;

	mx_err_clear(&e);
	if (mx_api_relations(&c->api, room_id, root, "m.thread", 1, 'b', &j,
		&e) != 0)
		mx_cli_note(c, 1, "no thread relations of '%s': %s", root,
		    e.msg);
	id = json_string_value(
	    json_object_get(json_array_get(json_object_get(j, "chunk"), 0),
		"event_id"));
	out = mx_xstrdup(id ? id : root);
	json_decref(j);
	return out;
}

/* Send text as the options say. */
static int
send_text(struct send *s, const char *text, struct mx_err *e)
{
	const struct opt *o = s->o;
	json_t *content;
	int rc;

	if (o->react) {
		content = mx_msg_reaction(o->react, text);
		rc = send_event(s, "m.reaction", content, e);
		json_decref(content);
		return rc;
	}
	content = mx_msg_text(text, o->type, o->fmt, o->lang);
	if (o->edit)
		content = mx_msg_edit(content, o->edit);
	else if (o->thread)
		mx_msg_thread(content, o->thread, o->reply, s->latest);
	else if (o->reply)
		mx_msg_reply(content, o->reply);
	rc = send_event(s, "m.room.message", content, e);
	json_decref(content);
	return rc;
}

static int
read_all(FILE *f, struct mx_buf *b, struct mx_err *e)
{
	char tmp[8192];
	size_t n;

	mx_buf_adds(b, "");
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		mx_buf_add(b, tmp, n);
	if (ferror(f))
		return mx_err_set(e, MX_LOCAL, "cannot read stdin: %s",
		    strerror(errno));
	return 0;
}

/* One message per stdin line, each sent as it arrives.  A line that is
 * not UTF-8 text is reported and skipped (a log tailed into a room must
 * not stop at one bad byte), and the run then exits 5: not every line
 * reached the room.  --strict stops there instead. */
static int
send_lines(struct send *s, struct mx_err *e)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long no = 0, bad = 0;
	ssize_t n;
	int rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
		no++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (mx_utf8_valid(line, (size_t)n)) {
			if (n > 0)
				rc = send_text(s, line, e);
			continue;
		}
		rc = mx_err_set(e, MX_LOCAL,
		    "stdin line %lu is not UTF-8 text (a NUL byte or an "
		    "invalid sequence)%s",
		    no, s->o->strict ? "" : "; skipped");
		if (!s->o->strict) {
			mx_cli_note(s->c, 0, "%s", e->msg);
			mx_err_clear(e);
			bad++;
			rc = 0;
		}
	}
	free(line);
	if (rc == 0 && bad > 0)
		rc = mx_err_set(e, MX_LOCAL,
		    "%lu line%s of stdin not sent (not UTF-8 text)", bad,
		    bad == 1 ? "" : "s");
	return rc;
}

/* One event per JSON line: a content, or {"type", "content"}. */
static int
send_json(struct send *s, struct mx_err *e)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned long no = 0;
	json_t *j, *ct;
	const char *type;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, stdin) >= 0) {
		no++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		j = mx_json_parse(line, strlen(line), e);
		if (!json_is_object(j)) {
			if (j != NULL)
				mx_err_set(e, MX_LOCAL, "not a JSON object");
			json_decref(j);
			rc = mx_err_prefix(e, "stdin line %lu", no);
			break;
		}
		type = json_string_value(json_object_get(j, "type"));
		ct = json_object_get(j, "content");
		if (type == NULL || !json_is_object(ct)) {
			type = "m.room.message";
			ct = j;
		}
		rc = send_event(s, type, ct, e);
		json_decref(j);
	}
	free(line);
	return rc;
}

/* Open path, check its size against the server's limit. */
static FILE *
open_file(struct send *s, const char *path, struct stat *st, struct mx_err *e)
{
	long long max = -1;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), st) != 0 ||
	    !S_ISREG(st->st_mode)) {
		mx_err_set(e, MX_LOCAL, "cannot read '%s': %s", path,
		    f ? "not a regular file" : strerror(errno));
	} else if (mx_api_media_config(&s->c->api, &max, e) == 0) {
		if (max < 0 || (long long)st->st_size <= max)
			return f;
		mx_err_set(e, MX_LOCAL,
		    "file too large (%lld bytes; the server accepts %lld)",
		    (long long)st->st_size, max);
	}
	if (f != NULL)
		fclose(f);
	return NULL;
}

/*
 * Encrypt f into a temporary file and upload that (the server sees
 * neither the content nor the name); *file: the key, IV and hash.
 */
static int
upload_encrypted(struct send *s, FILE *f, char **mxc, json_t **file,
    struct mx_err *e)
{
	FILE *tmp = tmpfile();
	long len;
	int rc;

	if (tmp == NULL)
		return mx_err_set(e, MX_LOCAL,
		    "cannot create a temporary file: %s", strerror(errno));
	rc = mx_attach_encrypt_stream(f, tmp, file, e);
	if (rc == 0) {
		len = ftell(tmp);
		rewind(tmp);
		rc = mx_api_upload(&s->c->api, tmp, len,
		    "application/octet-stream", NULL, mxc, e);
	}
	fclose(tmp);
	if (rc != 0) {
		json_decref(*file);
		*file = NULL;
	}
	return rc;
}

/* --file -: standard input copied into a temporary file (its path, to
 * unlink; caller frees), so that it can be probed, measured, encrypted
 * and uploaded as a file is. */
static char *
stdin_file(struct mx_err *e)
{
	const char *dir = getenv("TMPDIR");
	char *path = mx_xasprintf("%s/mx-send-XXXXXX", dir ? dir : "/tmp"),
	     buf[65536];
	int fd = mkstemp(path);
	size_t n;
	FILE *f;
	int bad;

	if (fd < 0 || (f = fdopen(fd, "wb")) == NULL) {
		mx_err_set(e, MX_LOCAL, "cannot create a temporary file: %s",
		    strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		free(path);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, n, f) != n)
			break;
	bad = ferror(stdin) || ferror(f);
	if (fclose(f) != 0 || bad) {
		mx_err_set(e, MX_LOCAL, "cannot copy stdin: %s",
		    strerror(errno));
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

/* Upload o->file and send it, caption (may be NULL) as its body (spec:
 * "m.file" and the like: a body other than filename is a caption). */
static int
send_file(struct send *s, const char *caption, struct mx_err *e)
{
	const struct opt *o = s->o;
	const char *base = strrchr(o->file, '/'), *name;
	char *mime, *mxc = NULL, *tmp = NULL;
	const char *path = o->file;
	json_t *content, *enc = NULL;
	struct stat st;
	long w, h;
	FILE *f;
	int rc;

	if (strcmp(o->file, "-") == 0) {
		if ((tmp = stdin_file(e)) == NULL)
			return -1;
		path = tmp;
	}
	name = o->name ? o->name : tmp ? "file" : base ? base + 1 : o->file;
	if ((f = open_file(s, path, &st, e)) == NULL) {
		if (tmp != NULL)
			unlink(tmp);
		free(tmp);
		return -1;
	}
	mime = mx_msg_probe(path, &w, &h);
	if (tmp != NULL)
		unlink(tmp); /* f keeps it */
	free(tmp);
	if (s->x != NULL)
		rc = upload_encrypted(s, f, &mxc, &enc, e);
	else
		rc = mx_api_upload(&s->c->api, f, (long)st.st_size, mime, name,
		    &mxc, e);
	fclose(f);
	if (rc == 0) {
		content =
		    mx_msg_file(name, mxc, mime, (long long)st.st_size, w, h);
		if (caption != NULL)
			json_object_set_new(content, "body",
			    json_string(caption));
		if (enc != NULL) {
			/* the file object replaces url (spec: "Sending
			 * encrypted attachments") */
			json_object_set_new(enc, "url", json_string(mxc));
			json_object_del(content, "url");
			json_object_set_new(content, "file", enc);
			enc = NULL;
		}
		if (o->thread)
			mx_msg_thread(content, o->thread, o->reply, s->latest);
		else if (o->reply)
			mx_msg_reply(content, o->reply);
		rc = send_event(s, "m.room.message", content, e);
		json_decref(content);
	}
	free(mime);
	free(mxc);
	return rc;
}

/* The text operands joined by spaces, else all of stdin. */
static char *
get_text(int argc, char **argv, struct mx_err *e)
{
	struct mx_buf b = MX_BUF_INIT;
	int i;

	if (argc == 0) {
		if (read_all(stdin, &b, e) != 0) {
			mx_buf_release(&b);
			return NULL;
		}
		while (b.len > 0 && b.p[b.len - 1] == '\n')
			b.p[--b.len] = '\0';
	}
	for (i = 0; i < argc; i++)
		mx_buf_addf(&b, "%s%s", i ? " " : "", argv[i]);
	if (b.len == 0) {
		mx_buf_release(&b);
		mx_cli_usage(&cli, "empty message");
	}
	if (!mx_utf8_valid(b.p, b.len)) {
		mx_buf_release(&b);
		mx_err_set(e, MX_LOCAL,
		    "the message is not UTF-8 text (a NUL byte or an invalid "
		    "sequence)");
		return NULL;
	}
	return mx_buf_detach(&b);
}

/* An encrypted room: load the account (plaintext is never sent there). */
static int
open_e2ee(struct send *s, struct mx_err *e)
{
	int rc = mx_e2ee_room_encryption(s->c, s->room_id, &s->enc, e);
	const char *alg;

	if (rc < 0)
		return mx_err_prefix(e, "cannot send to '%s'", s->room_id);
	if (rc == 0 && s->o->require_enc == 1)
		return mx_err_set(e, MX_LOCAL,
		    "'%s' is not encrypted: refusing to send "
		    "(--require-encryption)",
		    s->room_id);
	if (rc == 0 && s->o->require_enc == 2)
		return mx_err_set(e, MX_LOCAL,
		    "'%s' is not encrypted: a run with MX_IDENTITY sends only "
		    "into encrypted rooms (--allow-plaintext lets it)",
		    s->room_id);
	if (rc == 0)
		return 0;
	/* Encrypted, but with what?  Redacted ({}) or unknown: nothing mx
	 * can encrypt with, and never a reason to send in the clear. */
	alg = json_string_value(json_object_get(s->enc, "algorithm"));
	if (alg == NULL)
		return mx_err_set(e, MX_LOCAL,
		    "'%s' is encrypted, but its m.room.encryption names no "
		    "algorithm (redacted?): refusing to send",
		    s->room_id);
	if (strcmp(alg, "m.megolm.v1.aes-sha2") != 0)
		return mx_err_set(e, MX_LOCAL,
		    "'%s' is encrypted with '%s', which mx does not know",
		    s->room_id, alg);
	if (s->c->store == NULL)
		return mx_err_set(e, MX_USAGE,
		    "'%s' is encrypted: that needs a profile (mx-keys login), "
		    "not MX_ACCESS_TOKEN alone",
		    s->room_id);
	mx_cli_note(s->c, 1, "'%s' is encrypted (%s)", s->room_id,
	    json_string_value(json_object_get(s->enc, "algorithm")));
	return mx_e2ee_open(&s->x, s->c, e);
}

/* The history file of the prompt, 0600, in the profile (NULL without
 * one: MX_ACCESS_TOKEN, MX_IDENTITY). */
static char *
history_file(const struct send *s)
{
	char *p;
	int fd;

	if (s->c->store == NULL || mx_store_is_memory(s->c->store) ||
	    s->c->dir == NULL)
		return NULL;
	p = mx_xasprintf("%s/history", s->c->dir);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) <
	    0) {
		free(p);
		return NULL;
	}
	(void)fchmod(fd, 0600);
	close(fd);
	return p;
}

/* No TEXT and standard input a terminal: a line editor (libedit), each
 * line sent as it is entered, as a person chatting from a shell expects;
 * the history is kept in the profile.  Ctrl-D ends. */
static int
send_prompt(struct send *s, struct mx_err *e)
{
	char *hist = history_file(s), *line,
	     *prompt = mx_xasprintf("%s> ", s->room_id);
	int rc = 0;

	rl_outstream = stderr; /* stdout carries the JSON lines */
	using_history();
	if (hist != NULL)
		(void)read_history(hist);
	while (rc == 0 && (line = readline(prompt)) != NULL) {
		if (line[0] != '\0' && !mx_utf8_valid(line, strlen(line)))
			mx_cli_note(s->c, 0, "not UTF-8 text: not sent");
		else if (line[0] != '\0') {
			add_history(line);
			rc = send_text(s, line, e);
		}
		free(line);
	}
	if (hist != NULL && write_history(hist) != 0)
		mx_cli_note(s->c, 0, "cannot keep the history in '%s'", hist);
	free(hist);
	free(prompt);
	return rc;
}

static int
run(struct send *s, const char *room, int argc, char **argv, struct mx_err *e)
{
	const struct opt *o = s->o;
	unsigned flags = MX_ROOM_CREATE_DM | (o->join ? MX_ROOM_JOIN : 0);
	int prompt = !o->redact && !o->json && !o->lines && !o->file &&
	    argc == 0 && isatty(STDIN_FILENO);
	char *text = NULL;
	int rc;

	if (!prompt && !o->redact && !o->json && !o->lines &&
	    (!o->file || argc > 0))
		text = get_text(argc, argv, e);
	if (!prompt && !o->redact && !o->json && !o->lines &&
	    (!o->file || argc > 0) && text == NULL)
		return -1;
	if (mx_room_resolve(s->c, room, flags, &s->room_id, e) != 0) {
		free(text);
		return -1;
	}
	if (s->c->store == NULL)
		mx_cli_note(s->c, 1,
		    "no profile store: a txn id guards retries within this "
		    "run only");
	if (!o->redact && (rc = open_e2ee(s, e)) != 0) {
		free(text);
		return rc;
	}
	if ((rc = check_target(s, o->reply, "--reply-to", e)) != 0 ||
	    (rc = check_target(s, o->thread, "--thread", e)) != 0 ||
	    (rc = check_target(s, o->edit, "--edit", e)) != 0 ||
	    (rc = check_target(s, o->react, "--react", e)) != 0) {
		free(text);
		return rc;
	}
	if (o->thread)
		s->latest = thread_latest(s->c, s->room_id, o->thread);
	if (o->redact) {
		json_t *r = json_pack("{s:s,s:s*}", "redacts", o->redact,
		    "reason", o->reason);

		rc = send_event(s, "m.room.redaction", r, e);
		json_decref(r);
	} else if (o->file)
		rc = send_file(s, text, e);
	else if (o->json)
		rc = send_json(s, e);
	else if (o->lines)
		rc = send_lines(s, e);
	else if (prompt)
		rc = send_prompt(s, e);
	else
		rc = send_text(s, text, e);
	free(text);
	return rc;
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct opt o = { 0 };
	struct send s = { &c, &o, NULL, NULL, NULL, NULL };
	struct mx_err e;
	unsigned flags = MX_CTX_SESSION;
	int i, rc = MX_OK;

	mx_cli_init();
	mx_err_clear(&e);
	i = mx_cli_parse(&cli, &c, argc, argv, opt_fn, &o);
	if (i >= argc)
		mx_cli_usage(&cli, "no ROOM given");
	check_opts(&o, argc - i - 1);
	/* A CI job's sealed identity is for encrypted rooms: a server that
	 * hides a room's encryption from a run that remembers nothing must
	 * not get its plaintext (2: required by MX_IDENTITY). */
	if (!o.require_enc && !o.allow_plain &&
	    getenv("MX_IDENTITY") != NULL && *getenv("MX_IDENTITY") != '\0')
		o.require_enc = 2;
	/* With a token from the environment there is no profile store: txn
	 * ids then make retries idempotent within this run only. */
	if (getenv("MX_ACCESS_TOKEN") == NULL)
		flags |= MX_CTX_STORE;
	/* Pending txn records need only survive a killed process, which
	 * WAL without a sync per commit guarantees. */
	if (mx_ctx_open(&c, flags, &e) != 0 ||
	    (c.store != NULL && mx_store_set_durable(c.store, 0, &e) != 0) ||
	    run(&s, argv[i], argc - i - 1, argv + i + 1, &e) != 0)
		rc = mx_cli_fail(cli.prog, &e);
	free(s.room_id);
	free(s.latest);
	json_decref(s.enc);
	mx_e2ee_close(s.x);
	mx_ctx_close(&c);
	return rc;
}
