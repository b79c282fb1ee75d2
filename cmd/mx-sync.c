/*
 * mx-sync: print a Matrix account's events as JSON Lines: one sync since
 * the stored position, follow forever, a room's whole history or its last
 * events.  Each line is the client event as the server sent it plus
 * "room_id"; what mx adds goes under "mx".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "attach.h"
#include "cli.h"
#include "conf.h"
#include "e2ee.h"
#include "history.h"
#include "json.h"
#include "room.h"
#include "store.h"
#include "sync.h"
#include "util.h"
#include "banned.h"

enum {
	O_HISTORY = MX_OPT_LONG,
	O_FROM,
	O_LIMIT,
	O_TYPES,
	O_ACCEPT,
	O_RAW,
	O_DOWNLOAD,
	O_MAX_DOWNLOAD,
	O_STATE_FILE,
	O_EMIT_TOKEN,
	O_DOWNLOAD_MXC,
	O_KEY_STDIN,
};

static const struct mx_opt opts[] = {
	{ 'f', "follow", NULL, "keep syncing, printing events as they come",
	    0 },
	{ O_HISTORY, "history", "ROOM",
	    "print ROOM's whole history, oldest first", 0 },
	{ O_FROM, "from", "TOKEN",
	    "continue --history from TOKEN (see --emit-token)", 0 },
	{ O_DOWNLOAD_MXC, "download-mxc", "MXC",
	    "save the media MXC (-o FILE, else stdout) and exit", 0 },
	{ 'o', "output", "FILE", "--download-mxc: the file to create", 0 },
	{ O_KEY_STDIN, "key-stdin", NULL,
	    "--download-mxc: decrypt with the file's JSON read from stdin",
	    0 },
	{ O_EMIT_TOKEN, "emit-token", NULL,
	    "--history: end with a line holding the token for --from", 0 },
	{ O_LIMIT, "limit", "N", "print the last N events of each ROOM", 0 },
	{ O_TYPES, "types", "TYPE,...", "only events of these types",
	    MX_OPT_REPEAT },
	{ O_ACCEPT, "accept-invites", NULL, "join the rooms we are invited to",
	    0 },
	{ O_RAW, "raw", NULL, "keep each encrypted event's envelope as mx.raw",
	    0 },
	{ O_DOWNLOAD, "download", "DIR",
	    "save the files of file events in DIR (decrypted, hash checked)",
	    0 },
	{ O_STATE_FILE, "state-file", "FILE",
	    "keep the sync position in FILE, not in the profile", 0 },
	{ O_MAX_DOWNLOAD, "max-download", "SIZE",
	    "the largest file --download saves (default 100M)", 0 },
	MX_OPT_END
};

static const struct mx_cli cli = {
	"mx-sync",
	"[options] [ROOM...]\n--history ROOM [--from TOKEN] "
	"[options]\n--limit N [-f] [options] ROOM...",
	"Print Matrix events as JSON Lines.",
	opts,
};

#define FOLLOW_TIMEOUT_MS 30000L
#define MAX_DOWNLOAD (100LL << 20) /* --max-download's default */
#define BACKOFF_MAX_MS 30000L

struct opt {
	int follow, accept, raw, emit_token;
	const char *history, *from, *download, *state_file, *mxc, *output;
	int key_stdin;
	long limit;
	long long max_download;
	struct mx_sync_sel sel;
};

struct run {
	struct mx_ctx *c;
	struct opt *o;
	FILE *spool;	     /* the batch being built, or NULL: stdout */
	const char *room;    /* --history: the room argument */
	const char *room_id; /* --history: its room ID */
	char *resume;	     /* --history: the last page's end token */
	struct mx_e2ee *x;   /* NULL without a profile store */
};

/*
 * While a request or a backoff wait is under way, no output of the batch
 * exists yet and the position of the last one is stored: a SIGTERM or
 * SIGINT then ends the process at once.  Otherwise the batch is finished
 * first.
 */
static volatile sig_atomic_t waiting, stop;

static void
on_signal(int sig)
{
	(void)sig;
	if (waiting)
		_exit(MX_OK);
	stop = 1;
}

static int
opt_fn(void *u, int id, const char *arg)
{
	struct opt *o = u;
	char *end;

	switch (id) {
	case 'f':
		o->follow = 1;
		break;
	case O_HISTORY:
		o->history = arg;
		break;
	case O_FROM:
		o->from = arg;
		break;
	case O_ACCEPT:
		o->accept = 1;
		break;
	case O_RAW:
		o->raw = 1;
		break;
	case O_DOWNLOAD:
		o->download = arg;
		break;
	case O_DOWNLOAD_MXC:
		o->mxc = arg;
		break;
	case 'o':
		o->output = arg;
		break;
	case O_KEY_STDIN:
		o->key_stdin = 1;
		break;
	case O_EMIT_TOKEN:
		o->emit_token = 1;
		break;
	case O_STATE_FILE:
		o->state_file = arg;
		break;
	case O_MAX_DOWNLOAD:
		if (mx_parse_size(arg, &o->max_download) != 0 ||
		    o->max_download < 1)
			mx_cli_usage(&cli,
			    "--max-download wants a size such as 5000, 20M "
			    "or 1G");
		break;
	case O_TYPES:
		mx_sync_split(arg, &o->sel.types, &o->sel.ntypes);
		break;
	case O_LIMIT:
		errno = 0;
		o->limit = strtol(arg, &end, 10);
		if (errno || *end || end == arg || o->limit < 1 ||
		    o->limit > 1000000)
			mx_cli_usage(&cli,
			    "--limit wants a number from 1 to 1000000");
		break;
	default:
		return -1;
	}
	return 0;
}

static void
check_opts(const struct opt *o, int nrooms)
{
	struct stat st;

	if (o->history && o->limit)
		mx_cli_usage(&cli, "--history and --limit exclude each other");
	if (o->history && nrooms > 0)
		mx_cli_usage(&cli, "--history takes its ROOM as its argument");
	if (o->from && !o->history)
		mx_cli_usage(&cli, "--from needs --history");
	if ((o->output || o->key_stdin) && !o->mxc)
		mx_cli_usage(&cli, "-o and --key-stdin need --download-mxc");
	if (o->mxc &&
	    (o->history || o->limit || o->follow || o->accept || o->download ||
		o->state_file || nrooms > 0))
		mx_cli_usage(&cli,
		    "--download-mxc fetches one file: no ROOM, sync or "
		    "history "
		    "options");
	if (o->emit_token && !o->history)
		mx_cli_usage(&cli, "--emit-token needs --history");
	if (o->limit && nrooms == 0)
		mx_cli_usage(&cli, "--limit needs a ROOM");
	if (o->history && (o->follow || o->accept))
		mx_cli_usage(&cli,
		    "--history reads a room once: no --follow or "
		    "--accept-invites");
	if (o->limit && o->accept)
		mx_cli_usage(&cli, "--limit takes no --accept-invites");
	if (o->state_file && (o->history || o->limit))
		mx_cli_usage(&cli,
		    "--state-file keeps a sync position: no --history or "
		    "--limit");
	if (o->download &&
	    (stat(o->download, &st) != 0 || !S_ISDIR(st.st_mode)))
		mx_cli_usage(&cli, "--download: '%s' is not a directory",
		    o->download);
}

/*
 * The output line of ev: a copy with "room_id" and, for what is not a
 * timeline event, "mx":{"section":...}.
 */
/* mx of o, created when absent (borrowed). */
static json_t *
mx_of(json_t *o)
{
	json_t *mx = json_object_get(o, "mx");

	if (mx == NULL)
		json_object_set_new(o, "mx", mx = json_object());
	return mx;
}

/* A file name for the attachment of event eid named name: both reduced to
 * [A-Za-z0-9._-], so nothing the sender chose can leave DIR. */
static char *
file_name(const char *eid, const char *name)
{
	char *s = mx_xasprintf("%s-%s", eid, name ? name : "file"), *p;

	for (p = s; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '.' && *p != '-')
			*p = '_';
	if (s[0] == '.')
		s[0] = '_';
	return s;
}

/* Fetch (and decrypt) the file into a temporary file, renamed into place
 * only once complete and its hash checked. */
static int
fetch(struct run *r, const char *url, const json_t *file, const char *path,
    struct mx_err *e)
{
	char *tmp = mx_xasprintf("%s.part-XXXXXX", path);
	FILE *ct = file ? tmpfile() : NULL, *out = NULL;
	int fd = mkstemp(tmp), rc = -1;

	if (fd < 0 || (out = fdopen(fd, "wb")) == NULL || (file && !ct))
		mx_err_set(e, MX_LOCAL, "cannot create '%s': %s", tmp,
		    strerror(errno));
	else if (mx_api_download(&r->c->api, url, file ? ct : out, e) == 0) {
		rc = 0;
		if (file) {
			rewind(ct);
			rc = mx_attach_decrypt_stream(file, ct, out, e);
		}
		if (rc == 0 && (fflush(out) != 0 || fsync(fileno(out)) != 0))
			rc = mx_err_set(e, MX_LOCAL, "cannot write '%s': %s",
			    tmp, strerror(errno));
	}
	if (out != NULL)
		fclose(out);
	else if (fd >= 0)
		close(fd);
	if (ct != NULL)
		fclose(ct);
	/* link, not rename: a file already there (another event's, or one
	 * the user put there) is never replaced. */
	if (rc == 0 && link(tmp, path) != 0)
		rc = mx_err_set(e, MX_LOCAL, "cannot save '%s': %s", path,
		    errno == EEXIST ? "it exists; not overwritten" :
				      strerror(errno));
	if (fd >= 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* --key-stdin: the encrypted file's JSON (spec: "EncryptedFile": key, iv,
 * hashes, v) from standard input, for the media mxc. */
static int
read_file_key(const char *mxc, json_t **file, struct mx_err *e)
{
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf), stdin);
	const char *url;

	*file = NULL;
	if (ferror(stdin) || n == sizeof(buf))
		return mx_err_set(e, MX_LOCAL,
		    "--key-stdin: cannot read the file's JSON (64 KiB at "
		    "most)");
	*file = mx_json_parse(buf, n, e);
	mx_wipe(buf, n);
	if (!json_is_object(*file) ||
	    !json_is_object(json_object_get(*file, "key")) ||
	    mx_json_str(*file, "iv") == NULL) {
		json_decref(*file);
		*file = NULL;
		return mx_err_set(e, MX_LOCAL,
		    "--key-stdin: not the JSON of an encrypted file (key, iv, "
		    "hashes)");
	}
	if ((url = mx_json_str(*file, "url")) != NULL &&
	    strcmp(url, mxc) != 0) {
		json_decref(*file);
		*file = NULL;
		return mx_err_set(e, MX_LOCAL,
		    "--key-stdin: the JSON is that of '%s', not '%s'", url,
		    mxc);
	}
	return 0;
}

/* Copy the file at path to stdout. */
static int
copy_out(const char *path, struct mx_err *e)
{
	FILE *f = fopen(path, "rb");
	char buf[65536];
	size_t n;
	int rc = 0;

	if (f == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot read '%s': %s", path,
		    strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, stdout) != n) {
			rc = -1;
			break;
		}
	fclose(f);
	if (rc != 0 || fflush(stdout) == EOF || ferror(stdout))
		return mx_err_set(e, MX_LOCAL, "cannot write to stdout: %s",
		    strerror(errno));
	return 0;
}

/* --download-mxc MXC: the media, decrypted and its hash checked with
 * --key-stdin, into -o FILE (never over one that exists), else to stdout
 * once whole and checked: nothing unchecked is ever written out. */
static int
download_mxc(struct run *r, struct mx_err *e)
{
	const struct opt *o = r->o;
	const char *tdir = getenv("TMPDIR");
	char *dir = NULL, *path;
	json_t *file = NULL;
	int rc;

	if (o->key_stdin && read_file_key(o->mxc, &file, e) != 0)
		return -1;
	if (o->output != NULL)
		path = mx_xstrdup(o->output);
	else {
		dir = mx_xasprintf("%s/mx-sync-XXXXXX", tdir ? tdir : "/tmp");
		if (mkdtemp(dir) == NULL) {
			rc = mx_err_set(e, MX_LOCAL,
			    "cannot create a temporary directory: %s",
			    strerror(errno));
			free(dir);
			json_decref(file);
			return rc;
		}
		path = mx_xasprintf("%s/media", dir);
	}
	rc = fetch(r, o->mxc, file, path, e);
	if (dir != NULL) {
		if (rc == 0)
			rc = copy_out(path, e);
		unlink(path);
		rmdir(dir);
	}
	free(dir);
	free(path);
	json_decref(file);
	return rc;
}

/* 1 when o is a file message (spec: "m.room.message" msgtypes m.file,
 * m.image, m.audio, m.video) with a content URI. */
static int
is_file_message(const json_t *o)
{
	static const char *const kinds[] = { "m.file", "m.image", "m.audio",
		"m.video" };
	const char *t = mx_json_str(o, "type"),
		   *k = mx_json_str(json_object_get(o, "content"), "msgtype");
	size_t i;

	if (t == NULL || k == NULL || strcmp(t, "m.room.message") != 0 ||
	    json_object_get(o, "state_key") != NULL)
		return 0;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(k, kinds[i]) == 0)
			return 1;
	return 0;
}

/* --download: save the file of a file message; mx.file says where, or
 * mx.file_error why not. */
static void
download(struct run *r, json_t *o)
{
	const json_t *c = json_object_get(o, "content");
	const json_t *file = json_object_get(c, "file");
	const char *url = json_string_value(
		       json_object_get(file ? file : c, "url")),
		   *eid = json_string_value(json_object_get(o, "event_id"));
	const char *name = json_string_value(json_object_get(c, "filename"));
	char *fn, *path;
	struct mx_err e;

	if (url == NULL || eid == NULL || !is_file_message(o))
		return;
	if (name == NULL)
		name = json_string_value(json_object_get(c, "body"));
	fn = file_name(eid + (*eid == '$'), name);
	path = mx_xasprintf("%s/%s", r->o->download, fn);
	mx_err_clear(&e);
	if (fetch(r, url, file, path, &e) == 0)
		json_object_set_new(mx_of(o), "file", json_string(path));
	else
		json_object_set_new(mx_of(o), "file_error",
		    json_string(e.msg));
	free(path);
	free(fn);
}

/* The output form of ev, or NULL with e when the store fails. */
static json_t *
output(struct run *r, const char *room_id, const json_t *ev,
    const char *section, struct mx_err *e)
{
	json_t *o, *mx;

	if (mx_e2ee_event(r->x, room_id, ev, r->o->raw, &o, e) != 0)
		return NULL;

	/* Only the timeline of a joined room: an invite (its stripped state)
	 * comes from anyone, and is no reason to fetch anything. */
	if (r->o->download && section == NULL)
		download(r, o);

	if (section) {
		if ((mx = json_object_get(o, "mx")) == NULL)
			json_object_set_new(o, "mx", mx = json_object());
		json_object_set_new(mx, "section", json_string(section));
	}
	return o;
}

/* Write o to the batch's spool, or straight to stdout; o NULL: output()
 * failed, e says why. */
static int
put(struct run *r, json_t *o, struct mx_err *e)
{
	char *s;
	int rc = 0;

	if (o == NULL)
		return -1;
	if (r->spool == NULL) {
		rc = mx_cli_print_json(o, e);
		json_decref(o);
		return rc;
	}
	s = mx_json_compact(o);
	json_decref(o);
	if (s == NULL)
		return mx_err_set(e, MX_LOCAL, "cannot encode an event");
	if (fputs(s, r->spool) == EOF || putc('\n', r->spool) == EOF)
		rc = mx_err_set(e, MX_LOCAL, "cannot write the spool file: %s",
		    strerror(errno));
	free(s);
	return rc;
}

static int
on_event(void *u, const char *room_id, const json_t *ev,
    enum mx_sync_kind kind, struct mx_err *e)
{
	struct run *r = u;

	if (!mx_sync_wants(&r->o->sel, ev))
		return 0;
	return put(r,
	    output(r, room_id, ev, kind == MX_SYNC_STATE ? "state" : NULL, e),
	    e);
}

/* An invite: join when asked (a refusal is a note, not a failure), then
 * print the invite event. */
static int
on_invite(void *u, const char *room_id, const json_t *ev, struct mx_err *e)
{
	struct run *r = u;
	char *joined = NULL;
	json_t *o;

	if (r->o->accept &&
	    mx_api_join(&r->c->api, room_id, &joined, e) != 0) {
		if (e->status == MX_TEMP)
			return -1;
		mx_cli_note(r->c, 0, "cannot join '%s': %s", room_id, e->msg);
		mx_err_clear(e);
	}
	/* A direct chat joined is recorded as one (spec: "Direct
	 * Messaging": the invitee adds it to m.direct), so that mx-send
	 * @inviter finds it; failing to record it is a note. */
	if (joined != NULL && ev != NULL &&
	    json_is_true(json_object_get(json_object_get(ev, "content"),
		"is_direct")) &&
	    mx_json_str(ev, "sender") != NULL &&
	    mx_room_record_dm(r->c, mx_json_str(ev, "sender"), room_id, e) !=
		0) {
		if (e->status == MX_TEMP) {
			free(joined);
			return -1;
		}
		mx_cli_note(r->c, 0, "cannot record '%s' as direct: %s",
		    room_id, e->msg);
		mx_err_clear(e);
	}
	if (ev != NULL && mx_sync_wants(&r->o->sel, ev)) {
		if ((o = output(r, room_id, ev, "invite", e)) == NULL)
			return -1;
		json_object_set_new(json_object_get(o, "mx"), "joined",
		    json_boolean(joined != NULL));
		free(joined);
		return put(r, o, e);
	}
	free(joined);
	return 0;
}

/* --accept-invites: the invites still pending, read anew from the server,
 * joined and printed, so an invite that an earlier run printed and moved
 * past is joined too. */
static int
accept_pending(struct run *r, struct mx_err *e)
{
	json_t *inv = NULL, *room;
	const char *room_id;
	int rc = 0;

	if (mx_sync_invites(&r->c->api, &inv, e) != 0)
		return -1;
	json_object_foreach(inv, room_id, room)
		if (rc == 0 && mx_sync_wants_room(&r->o->sel, room_id))
			rc = on_invite(r, room_id, mx_sync_invite_event(room),
			    e);
	json_decref(inv);
	return rc;
}

static void
on_gap(void *u, const char *room_id)
{
	struct run *r = u;

	mx_cli_note(r->c, 1, "filling a timeline gap of '%s' from /messages",
	    room_id);
}

/* Copy the finished batch to stdout. */
static int
flush_spool(FILE *spool, struct mx_err *e)
{
	char buf[8192];
	size_t n;

	rewind(spool);
	while ((n = fread(buf, 1, sizeof(buf), spool)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			break;
	if (ferror(spool))
		return mx_err_set(e, MX_LOCAL, "cannot read the spool file");
	if (fflush(stdout) == EOF || ferror(stdout))
		return mx_err_set(e, MX_LOCAL, "cannot write to stdout: %s",
		    strerror(errno));
	return 0;
}

/* Spool the events of one answer, then print them all. */
static int
print_batch(struct run *r, const char *since, const json_t *resp,
    struct mx_err *e)
{
	struct mx_sync_walk w = { 0 };
	int rc;

	w.api = &r->c->api;
	w.sel = &r->o->sel;
	w.since = since;
	w.event = on_event;
	w.invite = on_invite;
	w.gap = on_gap;
	w.u = r;
	if ((r->spool = tmpfile()) == NULL)
		return mx_err_set(e, MX_LOCAL,
		    "cannot create a spool file: %s", strerror(errno));
	rc = mx_sync_walk(&w, resp, e);
	if (rc == 0)
		rc = flush_spool(r->spool, e);
	fclose(r->spool);
	r->spool = NULL;
	return rc;
}

/* One /sync: print its events; *next is the new position. */
static int
batch(struct run *r, const char *since, char **next, struct mx_err *e)
{
	char *filter =
	    mx_sync_filter(&r->o->sel, since == NULL, (int)r->o->limit);
	long timeout = r->o->follow && since ? FOLLOW_TIMEOUT_MS : 0;
	const char *nb;
	json_t *resp = NULL;
	int rc;

	waiting = 1;
	rc = mx_api_sync(&r->c->api, since, filter, timeout, &resp, e);
	waiting = 0;
	free(filter);
	if (rc != 0)
		return -1;
	if ((nb = mx_sync_next_batch(resp)) == NULL)
		rc = mx_err_set(e, MX_TEMP, "sync answer without next_batch");
	/* Keys first: the room keys of this answer decrypt its events. */
	else if (r->x != NULL && (rc = mx_e2ee_sync(r->x, resp, e)) != 0)
		;
	else if ((rc = print_batch(r, since, resp, e)) == 0)
		*next = mx_xstrdup(nb);
	json_decref(resp);
	return rc;
}

/* Wait before the next attempt: 1 s doubling up to 30 s. */
static void
backoff(struct run *r, int fails, const struct mx_err *e)
{
	long ms = 1000L << (fails < 5 ? fails : 5);
	struct timespec ts;

	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	mx_cli_note(r->c, 0, "%s; retrying in %ld s", e->msg, ms / 1000);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	waiting = 1;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	waiting = 0;
}

/* The position survives even a power loss (other writes of mx-sync, such
 * as the replay records of decrypted events, need only survive the
 * process: see main). */
static int
save_pos(struct run *r, const char *key, const char *tok, struct mx_err *e)
{
	struct mx_store *s = r->c->store;

	if (mx_store_begin_durable(s, e) != 0 ||
	    mx_store_put(s, "sync", key, tok, strlen(tok), e) != 0) {
		mx_store_rollback(s);
		return mx_err_prefix(e, "cannot store the sync position");
	}
	if (mx_store_commit(s, e) != 0)
		return mx_err_prefix(e, "cannot store the sync position");
	return 0;
}

/* --state-file: the position in the file, *tok NULL when there is none
 * yet; the file holds one line, the token. */
static int
state_read(const char *path, char **tok, struct mx_err *e)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	*tok = NULL;
	if (f == NULL)
		return errno == ENOENT ?
		    0 :
		    mx_err_set(e, MX_LOCAL, "cannot read '%s': %s", path,
			strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n == 0 || n == sizeof(buf) || memchr(buf, '\n', n) != NULL ||
	    !mx_utf8_valid(buf, n))
		return mx_err_set(e, MX_LOCAL,
		    "'%s' holds no sync position (one line, a token)", path);
	*tok = mx_xstrndup(buf, n);
	return 0;
}

/* Replace the file's position by tok: a new file, synced, then renamed
 * over the old one, so that a crash leaves one or the other. */
static int
state_write(const char *path, const char *tok, struct mx_err *e)
{
	char *tmp = mx_xasprintf("%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp), rc = 0;
	size_t n = strlen(tok);

	if (fd < 0 || write(fd, tok, n) != (ssize_t)n ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0 || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		rc = mx_err_set(e, MX_LOCAL, "cannot write '%s': %s", path,
		    strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* Sync once, or forever with -f; the position is kept after each batch
 * has been written: in the profile's store, in --state-file, or (a run of
 * MX_ACCESS_TOKEN without one) nowhere but in memory. */
static int
sync_loop(struct run *r, struct mx_err *e)
{
	char *key = mx_sync_token_key(&r->o->sel), *since = NULL, *next;
	int rc = 0, fails = 0;

	/* --limit N -f: the last N events (a first sync's timeline), then on
	 * from there. */
	if (r->o->state_file != NULL)
		rc = state_read(r->o->state_file, &since, e);
	else if (!r->o->limit && r->c->store != NULL)
		rc = mx_store_get(r->c->store, "sync", key, &since, NULL, e);
	if (rc > 0)
		rc = 0;
	while (rc == 0) {
		next = NULL;
		if (batch(r, since, &next, e) != 0) {
			if (e->status != MX_TEMP || !r->o->follow || stop) {
				rc = -1;
				break;
			}
			backoff(r, fails++, e);
			continue;
		}
		fails = 0;
		free(since);
		since = next;
		/* --limit -f starts afresh each time: nothing to store. */
		if (r->o->state_file != NULL)
			rc = state_write(r->o->state_file, since, e);
		else if (!r->o->limit && r->c->store != NULL)
			rc = save_pos(r, key, since, e);
		if (!r->o->follow || stop)
			break;
	}
	free(since);
	free(key);
	return rc;
}

static int
hist_event(void *u, const json_t *ev, struct mx_err *e)
{
	struct run *r = u;

	if (!mx_sync_wants(&r->o->sel, ev))
		return 0;
	return put(r, output(r, r->room_id, ev, NULL, e), e);
}

static int
hist_page(void *u, const char *tok, struct mx_err *e)
{
	struct run *r = u;

	(void)e;
	free(r->resume);
	r->resume = mx_xstrdup(tok);
	mx_cli_note(r->c, 1, "history of '%s' printed up to --from %s",
	    r->room, tok);
	return 0;
}

/* --emit-token: where --history stopped, as the last line of stdout:
 * {"room_id":..., "mx":{"section":"resume","from":TOKEN}}, the token for
 * --from.  -1 when it cannot be printed (e keeps an earlier error). */
static int
emit_token(struct run *r, struct mx_err *e)
{
	json_t *o = json_pack("{s:s,s:{s:s,s:s}}", "room_id", r->room_id, "mx",
	    "section", "resume", "from", r->resume);
	struct mx_err pe;
	int rc;

	mx_err_clear(&pe);
	if ((rc = mx_cli_print_json(o, &pe)) != 0 && e->status == MX_OK)
		*e = pe;
	json_decref(o);
	return rc;
}

/* --history ROOM: forward from the room's start (or --from). */
static int
history(struct run *r, struct mx_err *e)
{
	struct mx_history h = { 0 };
	char *room_id = NULL, *filter = mx_sync_room_filter(&r->o->sel);
	int rc;

	r->room = r->o->history;
	rc = mx_room_resolve(r->c, r->room, 0, &room_id, e);
	if (rc == 0) {
		r->room_id = room_id;
		h.api = &r->c->api;
		h.room_id = room_id;
		h.filter = filter;
		h.from = r->o->from;
		h.event = hist_event;
		h.page_end = hist_page;
		h.u = r;
		rc = mx_history_forward(&h, e);
		if (rc != 0 && r->resume && e->status != MX_LOCAL)
			mx_cli_note(r->c, 0,
			    "resume with --history '%s' --from %s", r->room,
			    r->resume);
		if (r->o->emit_token && r->resume != NULL &&
		    emit_token(r, e) != 0)
			rc = -1;
	}
	free(r->resume);
	free(room_id);
	free(filter);
	return rc;
}

/* --limit N: the last N events of each room of the selection. */
static int
last_events(struct run *r, struct mx_err *e)
{
	char *filter = mx_sync_room_filter(&r->o->sel);
	const struct mx_sync_sel *s = &r->o->sel;
	json_t *evs, *ev;
	size_t i, j;
	int rc = 0;

	for (i = 0; i < s->nrooms && rc == 0; i++) {
		rc = mx_history_last(&r->c->api, s->rooms[i], NULL, filter,
		    (int)r->o->limit, &evs, e);
		if (rc != 0)
			break;
		json_array_foreach(evs, j, ev)
			if (rc == 0 && mx_sync_wants(s, ev))
				rc = put(r,
				    output(r, s->rooms[i], ev, NULL, e), e);
		json_decref(evs);
	}
	free(filter);
	return rc;
}

/* 1 when room_id is one of the joined rooms. */
static int
joined(const json_t *rooms, const char *room_id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(rooms, i, v)
		if (strcmp(json_string_value(v) ? json_string_value(v) : "",
			room_id) == 0)
			return 1;
	return 0;
}

/* Resolve the ROOM operands into the selection; each must be joined. */
static int
resolve_rooms(struct run *r, int argc, char **argv, struct mx_err *e)
{
	struct mx_sync_sel *s = &r->o->sel;
	json_t *rooms = NULL;
	char *id;
	int i, rc = 0;

	if (argc > 0 && !r->o->accept &&
	    mx_api_joined_rooms(&r->c->api, &rooms, e) != 0)
		return -1;
	for (i = 0; i < argc && rc == 0; i++) {
		if ((rc = mx_room_resolve(r->c, argv[i], 0, &id, e)) != 0)
			break;
		s->rooms =
		    mx_xrealloc(s->rooms, (s->nrooms + 1) * sizeof(*s->rooms));
		s->rooms[s->nrooms++] = id;
		if (rooms && !joined(rooms, id))
			rc = mx_err_set(e, MX_PERM, "not joined to '%s'",
			    argv[i]);
	}
	json_decref(rooms);
	return rc;
}

/* Print what the options ask for: a history, the last events, or the
 * syncs. */
static int
run(struct run *r, int nrooms, char **rooms, struct mx_err *e)
{
	const struct opt *o = r->o;
	int rc = 0;

	if (r->c->store != NULL && getenv("MX_ACCESS_TOKEN") == NULL)
		rc = mx_e2ee_open(&r->x, r->c, e);
	if (rc == 0 && !o->history)
		rc = resolve_rooms(r, nrooms, rooms, e);
	if (rc == 0 && o->accept)
		rc = accept_pending(r, e);
	if (rc == 0)
		rc = o->history		   ? history(r, e) :
		    o->limit && !o->follow ? last_events(r, e) :
					     sync_loop(r, e);
	return rc;
}

int
main(int argc, char **argv)
{
	struct mx_ctx c = { 0 };
	struct opt o = { 0 };
	struct run r = { &c, &o, NULL, NULL, NULL, NULL, NULL };
	struct mx_err e;
	unsigned flags = MX_CTX_SESSION;
	int i, rc;

	mx_cli_init();
	mx_err_clear(&e);
	i = mx_cli_parse(&cli, &c, argc, argv, opt_fn, &o);
	check_opts(&o, argc - i);
	/* The store holds the sync position and the keys that decrypt (the
	 * profile's own device's: not with a token from the environment). */
	/* A token from the environment is another identity than the
	 * profile's: it never reads or moves the profile's position. */
	if (getenv("MX_ACCESS_TOKEN") == NULL)
		flags |= MX_CTX_STORE;
	if (o.follow)
		mx_cli_on_signals(on_signal);
	rc = mx_ctx_open(&c, flags, &e);
	c.api.max_download = o.max_download ? o.max_download : MAX_DOWNLOAD;
	/* One replay record per decrypted event: a sync to disk for each
	 * would make reading a long history crawl. */
	if (rc == 0 && c.store != NULL)
		rc = mx_store_set_durable(c.store, 0, &e);
	if (rc == 0 && o.mxc != NULL)
		rc = download_mxc(&r, &e);
	else if (rc == 0)
		rc = run(&r, argc - i, argv + i, &e);
	rc = rc == 0 ? MX_OK : mx_cli_fail(cli.prog, &e);
	mx_sync_sel_release(&o.sel);
	mx_e2ee_close(r.x);
	mx_ctx_close(&c);
	return rc;
}
