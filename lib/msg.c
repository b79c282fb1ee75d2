/*
 * msg: message contents, sizes and transaction ids (see msg.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmark.h>
#include <jansson.h>
#include <magic.h>

#include "crypto.h"
#include "json.h"
#include "msg.h"
#include "util.h"
#include "banned.h"

char *
mx_msg_escape(const char *s)
{
	struct mx_buf b = MX_BUF_INIT;

	mx_buf_adds(&b, "");
	for (; *s; s++) {
		switch (*s) {
		case '&':
			mx_buf_adds(&b, "&amp;");
			break;
		case '<':
			mx_buf_adds(&b, "&lt;");
			break;
		case '>':
			mx_buf_adds(&b, "&gt;");
			break;
		case '"':
			mx_buf_adds(&b, "&quot;");
			break;
		case '\'':
			mx_buf_adds(&b, "&#39;");
			break;
		default:
			mx_buf_add(&b, s, 1);
		}
	}
	return mx_buf_detach(&b);
}

char *
mx_msg_markdown(const char *md)
{
	char *html, *out;
	size_t n;

	/* cmark 0.30: CMARK_OPT_DEFAULT is safe, raw HTML is omitted. */
	html = cmark_markdown_to_html(md, strlen(md), CMARK_OPT_DEFAULT);
	n = strlen(html);
	while (n > 0 && html[n - 1] == '\n')
		n--;
	out = mx_xstrndup(html, n);
	free(html);
	return out;
}

/* The entity at s ("&amp;"...): its character into *c and its length. */
static size_t
entity(const char *s, char *c)
{
	static const struct {
		const char *name;
		char c;
	} tab[] = {
		{ "&amp;", '&' },
		{ "&lt;", '<' },
		{ "&gt;", '>' },
		{ "&quot;", '"' },
		{ "&#39;", '\'' },
		{ "&apos;", '\'' },
		{ "&nbsp;", ' ' },
	};
	size_t i, n;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		n = strlen(tab[i].name);
		if (strncmp(s, tab[i].name, n) == 0) {
			*c = tab[i].c;
			return n;
		}
	}
	return 0;
}

/* 1 when the tag starting at t (after '<') ends a line. */
static int
breaks_line(const char *t)
{
	static const char *tags[] = { "br", "/p", "/div", "/li", "/pre", "/h1",
		"/h2", "/h3", "/h4", "/h5", "/h6", "/blockquote", "hr",
		"/tr" };
	size_t i, n;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		n = strlen(tags[i]);
		if (strncmp(t, tags[i], n) == 0 &&
		    strchr(" />\t\n", t[n] ? t[n] : '>') != NULL)
			return 1;
	}
	return 0;
}

char *
mx_msg_html_text(const char *html)
{
	struct mx_buf b = MX_BUF_INIT;
	const char *s = html, *end;
	size_t n;
	char c;

	mx_buf_adds(&b, "");
	while (*s) {
		if (*s == '<' && (end = strchr(s, '>')) != NULL) {
			if (breaks_line(s + 1))
				mx_buf_adds(&b, "\n");
			s = end + 1;
		} else if (*s == '&' && (n = entity(s, &c)) > 0) {
			mx_buf_add(&b, &c, 1);
			s += n;
		} else
			mx_buf_add(&b, s++, 1);
	}
	while (b.len > 0 && b.p[b.len - 1] == '\n')
		b.p[--b.len] = '\0';
	return mx_buf_detach(&b);
}

/* "<p>X</p>" with no other paragraph -> X; else html as is (stolen). */
static char *
unwrap_paragraph(char *html)
{
	size_t n = strlen(html);
	char *in;

	if (n < 7 || strncmp(html, "<p>", 3) != 0 ||
	    strcmp(html + n - 4, "</p>") != 0)
		return html;
	in = mx_xstrndup(html + 3, n - 7);
	if (strstr(in, "<p>") != NULL) {
		free(in);
		return html;
	}
	free(html);
	return in;
}

static void
set_html(json_t *c, const char *body, char *html)
{
	json_object_set_new(c, "body", json_string(body));
	json_object_set_new(c, "format",
	    json_string("org.matrix.custom.html"));
	json_object_set_new(c, "formatted_body", json_string(html));
	free(html);
}

static char *
code_html(const char *text, const char *lang)
{
	char *esc = mx_msg_escape(text), *l, *out;

	if (lang == NULL || *lang == '\0') {
		out = mx_xasprintf("<pre><code>%s</code></pre>", esc);
	} else {
		l = mx_msg_escape(lang);
		out = mx_xasprintf("<pre><code "
				   "class=\"language-%s\">%s</code></pre>",
		    l, esc);
		free(l);
	}
	free(esc);
	return out;
}

json_t *
mx_msg_text(const char *text, enum mx_msg_type type, enum mx_msg_fmt fmt,
    const char *lang)
{
	static const char *types[] = { "m.text", "m.notice", "m.emote" };
	json_t *c = json_object();
	char *html, *esc, *plain;

	json_object_set_new(c, "msgtype", json_string(types[type]));
	switch (fmt) {
	case MX_FMT_MARKDOWN:
		html = unwrap_paragraph(mx_msg_markdown(text));
		esc = mx_msg_escape(text);
		/* Nothing but text: no formatted_body to send. */
		if (strcmp(html, esc) == 0) {
			free(html);
			json_object_set_new(c, "body", json_string(text));
		} else
			set_html(c, text, html);
		free(esc);
		break;
	case MX_FMT_HTML:
		plain = mx_msg_html_text(text);
		set_html(c, plain, mx_xstrdup(text));
		free(plain);
		break;
	case MX_FMT_CODE:
		set_html(c, text, code_html(text, lang));
		break;
	default:
		json_object_set_new(c, "body", json_string(text));
	}
	return c;
}

void
mx_msg_reply(json_t *content, const char *event_id)
{
	json_t *rel = json_object(), *irt = json_object();

	json_object_set_new(irt, "event_id", json_string(event_id));
	json_object_set_new(rel, "m.in_reply_to", irt);
	json_object_set_new(content, "m.relates_to", rel);
}

void
mx_msg_thread(json_t *content, const char *root, const char *reply_to,
    const char *latest)
{
	json_t *rel = json_object(), *irt = json_object();

	json_object_set_new(rel, "rel_type", json_string("m.thread"));
	json_object_set_new(rel, "event_id", json_string(root));
	json_object_set_new(rel, "is_falling_back",
	    json_boolean(reply_to == NULL));
	json_object_set_new(irt, "event_id",
	    json_string(reply_to ? reply_to :
		    latest	 ? latest :
				   root));
	json_object_set_new(rel, "m.in_reply_to", irt);
	json_object_set_new(content, "m.relates_to", rel);
}

/* Set key of c to "* " + the string of key in from, when there is one. */
static void
star(json_t *c, const json_t *from, const char *key)
{
	const char *s = json_string_value(json_object_get(from, key));
	char *t;

	if (s == NULL)
		return;
	t = mx_xasprintf("* %s", s);
	json_object_set_new(c, key, json_string(t));
	free(t);
}

json_t *
mx_msg_edit(json_t *new_content, const char *event_id)
{
	json_t *c = json_object(), *rel = json_object();
	const char *k;
	json_t *v;

	json_object_foreach(new_content, k, v) {
		if (strcmp(k, "m.relates_to") != 0)
			json_object_set(c, k, v);
	}
	json_object_del(new_content, "m.relates_to");
	star(c, new_content, "body");
	star(c, new_content, "formatted_body");
	json_object_set_new(c, "m.new_content", new_content);
	json_object_set_new(rel, "rel_type", json_string("m.replace"));
	json_object_set_new(rel, "event_id", json_string(event_id));
	json_object_set_new(c, "m.relates_to", rel);
	return c;
}

json_t *
mx_msg_reaction(const char *event_id, const char *key)
{
	return json_pack("{s:{s:s,s:s,s:s}}", "m.relates_to", "rel_type",
	    "m.annotation", "event_id", event_id, "key", key);
}

static unsigned long
be16(const unsigned char *p)
{
	return (unsigned long)p[0] << 8 | p[1];
}

static unsigned long
be32(const unsigned char *p)
{
	return be16(p) << 16 | be16(p + 2);
}

/* JPEG: walk the markers to the first start-of-frame (SOF0..SOF15 but
 * DHT C4, JPG C8, DAC CC) and read its height and width. */
static int
jpeg_size(const unsigned char *p, size_t n, long *w, long *h)
{
	size_t i = 2;
	unsigned m;

	while (i + 9 < n) {
		if (p[i] != 0xff)
			return -1;
		m = p[i + 1];
		if (m == 0xff) {
			i++;
			continue;
		}
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 &&
		    m != 0xcc) {
			*h = (long)be16(p + i + 5);
			*w = (long)be16(p + i + 7);
			return 0;
		}
		if (m == 0xd8 || (m >= 0xd0 && m <= 0xd7) || m == 0x01) {
			i += 2;
			continue;
		}
		i += 2 + be16(p + i + 2);
	}
	return -1;
}

int
mx_msg_image_size(const unsigned char *p, size_t n, long *w, long *h)
{
	if (n >= 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 &&
	    memcmp(p + 12, "IHDR", 4) == 0) {
		*w = (long)be32(p + 16);
		*h = (long)be32(p + 20);
		return 0;
	}
	if (n >= 10 &&
	    (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) {
		*w = (long)(p[6] | p[7] << 8);
		*h = (long)(p[8] | p[9] << 8);
		return 0;
	}
	if (n >= 4 && p[0] == 0xff && p[1] == 0xd8)
		return jpeg_size(p, n, w, h);
	return -1;
}

const char *
mx_msg_file_msgtype(const char *mime)
{
	if (mx_startswith(mime, "image/"))
		return "m.image";
	if (mx_startswith(mime, "audio/"))
		return "m.audio";
	if (mx_startswith(mime, "video/"))
		return "m.video";
	return "m.file";
}

char *
mx_msg_mime(const char *path)
{
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_SYMLINK);
	const char *t = NULL;
	char *out;

	if (m != NULL && magic_load(m, NULL) == 0)
		t = magic_file(m, path);
	out = mx_xstrdup(t ? t : "application/octet-stream");
	if (m != NULL)
		magic_close(m);
	return out;
}

char *
mx_msg_probe(const char *path, long *w, long *h)
{
	char *mime = mx_msg_mime(path);
	unsigned char *head;
	FILE *f;
	size_t n;

	*w = *h = -1;
	if (mx_startswith(mime, "image/") && (f = fopen(path, "rb")) != NULL) {
		head = mx_xmalloc(65536);
		n = fread(head, 1, 65536, f);
		if (mx_msg_image_size(head, n, w, h) != 0)
			*w = *h = -1;
		free(head);
		fclose(f);
	}
	return mime;
}

json_t *
mx_msg_file(const char *path, const char *mxc, const char *mime,
    long long size, long w, long h)
{
	const char *base = strrchr(path, '/');
	json_t *c, *info;

	base = base ? base + 1 : path;
	info =
	    json_pack("{s:I,s:s}", "size", (json_int_t)size, "mimetype", mime);
	if (w >= 0 && h >= 0) {
		json_object_set_new(info, "w", json_integer(w));
		json_object_set_new(info, "h", json_integer(h));
	}
	c = json_pack("{s:s,s:s,s:s,s:s,s:o}", "msgtype",
	    mx_msg_file_msgtype(mime), "body", base, "filename", base, "url",
	    mxc, "info", info);
	return c;
}

/* Canonical JSON; for what canonical JSON refuses (reals), jansson's
 * sorted compact form, close enough for a size and a hash key. */
static char *
canonical(const json_t *j)
{
	char *s = mx_json_canonical(j, NULL);

	if (s == NULL)
		s = json_dumps(j,
		    JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	return s;
}

size_t
mx_msg_event_size(const char *room_id, const char *sender, const char *type,
    const json_t *content)
{
	json_t *ev;
	char *s;
	size_t n;

	ev = json_pack("{s:s,s:s,s:s,s:O}", "room_id", room_id, "sender",
	    sender ? sender : "", "type", type, "content", content);
	s = ev ? canonical(ev) : NULL;
	n = s ? strlen(s) + MX_MSG_ENVELOPE : 0;
	free(s);
	json_decref(ev);
	return n;
}

static char *
hex(const unsigned char *p, size_t n)
{
	char *s = mx_xmalloc(2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	return s;
}

char *
mx_msg_txn_new(void)
{
	static char prefix[17];
	static unsigned long count;
	unsigned char r[8];
	char *h;

	if (prefix[0] == '\0') {
		mx_random(r, sizeof(r));
		h = hex(r, sizeof(r));
		memcpy(prefix, h, sizeof(prefix));
		free(h);
	}
	return mx_xasprintf("mx%s.%lu", prefix, ++count);
}

char *
mx_msg_txn_key(const char *room_id, const char *type, const json_t *content)
{
	struct mx_buf b = MX_BUF_INIT;
	unsigned char d[MX_SHA256_LEN];
	char *s = canonical(content);

	if (s == NULL)
		return NULL;
	mx_buf_add(&b, room_id, strlen(room_id) + 1);
	mx_buf_add(&b, type, strlen(type) + 1);
	mx_buf_adds(&b, s);
	mx_sha256(d, b.p, b.len);
	free(s);
	mx_buf_release(&b);
	return hex(d, sizeof(d));
}
