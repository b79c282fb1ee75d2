/*
 * banned: library functions mx does not use, as git bans them (an unbounded
 * copy, a non-reentrant table, a number parser that cannot say it failed).
 * Included last in every file of lib/ and cmd/, after the system headers:
 * a use anywhere then fails to compile with the name of the rule.  Use
 * snprintf, memcpy with a known length, strtol/strtoul with an end
 * pointer, gmtime_r, and mx_buf for strings that grow.
 */
#ifndef MX_BANNED_H
#define MX_BANNED_H

#define MX_BANNED(func) sorry_##func##_is_banned_in_mx

#undef strcpy
#define strcpy(x, y) MX_BANNED(strcpy)
#undef strcat
#define strcat(x, y) MX_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) MX_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) MX_BANNED(strncat)
#undef sprintf
#define sprintf(...) MX_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) MX_BANNED(vsprintf)
#undef gets
#define gets(x) MX_BANNED(gets)
#undef atoi
#define atoi(x) MX_BANNED(atoi)
#undef atol
#define atol(x) MX_BANNED(atol)
#undef atoll
#define atoll(x) MX_BANNED(atoll)
#undef strtok
#define strtok(x, y) MX_BANNED(strtok)
#undef gmtime
#define gmtime(t) MX_BANNED(gmtime)
#undef localtime
#define localtime(t) MX_BANNED(localtime)
#undef ctime
#define ctime(t) MX_BANNED(ctime)
#undef asctime
#define asctime(t) MX_BANNED(asctime)
#undef tmpnam
#define tmpnam(s) MX_BANNED(tmpnam)
#undef mktemp
#define mktemp(s) MX_BANNED(mktemp)

#endif
