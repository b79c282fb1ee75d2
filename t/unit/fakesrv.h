/*
 * fakesrv: a homeserver in the test process, for the unit tests of the
 * library parts that talk to one (e2ee).  One thread serves HTTP/1.1 on
 * a loopback port, one connection at a time (keep-alive as curl uses
 * it), and answers every request through the test's route function; each
 * request is also kept in a log the test can read.  Not a Matrix server:
 * the test decides every answer, so it can also play a hostile one.
 *
 * Header-only: include it in one unit test.
 */
#ifndef FAKESRV_H
#define FAKESRV_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKESRV_LOG 256

struct fakesrv_req {
	char method[8];
	char *path;		/* with the query string */
	char *body;		/* NUL-terminated; "" when none */
};

struct fakesrv {
	/* The answer to one request: a new string (freed by the server) and
	 * *status; called with the server's lock held. */
	char *(*route)(void *u, const struct fakesrv_req *r, int *status);
	void *u;
	int port;
	/* private */
	int fd, stop;
	pthread_t th;
	pthread_mutex_t mu;
	struct fakesrv_req log[FAKESRV_LOG];
	size_t nlog;
};

/* Read until the headers end and the body (Content-Length) is in: the
 * request's length, 0 at EOF, -1 on error. */
static ssize_t
fakesrv_read(struct fakesrv *s, int c, char *buf, size_t max, size_t *have,
    size_t *hdr, size_t *blen)
{
	struct pollfd p = { c, POLLIN, 0 };
	char *end, *cl;
	ssize_t n;

	for (;;) {
		buf[*have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			*hdr = (size_t)(end - buf) + 4;
			cl = strstr(buf, "\r\nContent-Length:");
			*blen = cl != NULL && cl < end ? strtoul(cl + 17, NULL,
			    10) : 0;
			if (*hdr + *blen <= *have)
				return (ssize_t)(*hdr + *blen);
		}
		if (*have + 1 >= max)
			return -1;
		if (poll(&p, 1, 50) <= 0) {
			if (s->stop)
				return -1;
			continue;
		}
		n = read(c, buf + *have, max - 1 - *have);
		if (n <= 0)
			return n == 0 && *have == 0 ? 0 : -1;
		*have += (size_t)n;
	}
}

/* Answer one request of length len at buf on connection c. */
static int
fakesrv_answer(struct fakesrv *s, int c, const char *buf, size_t hdr,
    size_t blen)
{
	struct fakesrv_req r;
	char *ans, *msg;
	int status = 200, ok, len;
	size_t max;

	memset(&r, 0, sizeof(r));
	sscanf(buf, "%7s", r.method);
	r.path = strndup(buf + strlen(r.method) + 1, strcspn(buf +
	    strlen(r.method) + 1, " "));
	r.body = strndup(buf + hdr, blen);
	pthread_mutex_lock(&s->mu);
	ans = s->route(s->u, &r, &status);
	if (s->nlog < FAKESRV_LOG)
		s->log[s->nlog++] = r;
	else {
		free(r.path);
		free(r.body);
	}
	pthread_mutex_unlock(&s->mu);
	/* One write: a second small one would wait for the ACK of the first
	 * (Nagle), which the client delays (40 ms a request). */
	max = strlen(ans) + 160;
	if ((msg = malloc(max)) == NULL)
		abort();
	len = snprintf(msg, max, "HTTP/1.1 %d X\r\nContent-Type: "
	    "application/json\r\nContent-Length: %zu\r\n\r\n%s", status,
	    strlen(ans), ans);
	ok = len > 0 && (size_t)len < max &&
	    write(c, msg, (size_t)len) == (ssize_t)len;
	free(msg);
	free(ans);
	return ok ? 0 : -1;
}

static void
fakesrv_conn(struct fakesrv *s, int c)
{
	static char buf[1 << 20];
	size_t have = 0, hdr, blen;
	ssize_t len;

	while ((len = fakesrv_read(s, c, buf, sizeof(buf), &have, &hdr,
	    &blen)) > 0) {
		if (fakesrv_answer(s, c, buf, hdr, blen) != 0)
			break;
		memmove(buf, buf + len, have - (size_t)len);
		have -= (size_t)len;
	}
	close(c);
}

static void *
fakesrv_main(void *u)
{
	struct fakesrv *s = u;
	struct pollfd p;
	int c;

	p.fd = s->fd;
	p.events = POLLIN;
	while (!s->stop) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		if ((c = accept(s->fd, NULL, NULL)) >= 0)
			fakesrv_conn(s, c);
	}
	return NULL;
}

/* Start serving (s->route and s->u set); s->port is then the port. */
static int
fakesrv_start(struct fakesrv *s)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(s->fd, 8) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &al) != 0)
		return -1;
	s->port = ntohs(a.sin_port);
	s->stop = 0;
	s->nlog = 0;
	pthread_mutex_init(&s->mu, NULL);
	return pthread_create(&s->th, NULL, fakesrv_main, s) == 0 ? 0 : -1;
}

/* Forget the requests logged so far. */
static void
fakesrv_clear(struct fakesrv *s)
{
	size_t i;

	pthread_mutex_lock(&s->mu);
	for (i = 0; i < s->nlog; i++) {
		free(s->log[i].path);
		free(s->log[i].body);
	}
	s->nlog = 0;
	pthread_mutex_unlock(&s->mu);
}

static void
fakesrv_stop(struct fakesrv *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	close(s->fd);
	fakesrv_clear(s);
	pthread_mutex_destroy(&s->mu);
}

#endif
