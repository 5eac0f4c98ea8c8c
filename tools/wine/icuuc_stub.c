/* icuuc.dll stand-in for Wine 8 (test bed only; see tools/wine/setup.sh).
 *
 * Qt6Core.dll (Qt 6.11) imports these 20 ucnv_* functions from the icuuc.dll
 * that Windows 10 1703+ ships in System32; Wine 8 has none, so Qt would not
 * load at all. This stub reports "no converters": ucnv_open fails and
 * ucnv_countAvailable is 0. Qt then behaves as if built without ICU: UTF-8/16/32,
 * Latin-1 and the system codec work; legacy codecs by name are "unavailable".
 * Built with gcc-mingw-w64-x86-64-win32 and copied into the prefix's System32. */
#include <stddef.h>
#include <stdint.h>
typedef int UErrorCode; typedef uint16_t UChar; typedef int32_t UChar32; typedef int8_t UBool;
typedef struct UConverter UConverter; typedef void (*UCallback)(void);
#define E __declspec(dllexport)
static void fail(UErrorCode *e, UErrorCode c) { if (e && *e <= 0) *e = c; }
E UConverter *ucnv_open(const char *n, UErrorCode *e) { (void)n; fail(e, 4); return NULL; }
E void ucnv_close(UConverter *c) { (void)c; }
E void ucnv_reset(UConverter *c) { (void)c; }
E int8_t ucnv_getMaxCharSize(const UConverter *c) { (void)c; return 1; }
E const char *ucnv_getName(const UConverter *c, UErrorCode *e) { (void)c; fail(e, 16); return NULL; }
E void ucnv_getToUCallBack(const UConverter *c, UCallback *a, const void **x) { (void)c; if (a) *a = NULL; if (x) *x = NULL; }
E void ucnv_getFromUCallBack(const UConverter *c, UCallback *a, const void **x) { (void)c; if (a) *a = NULL; if (x) *x = NULL; }
E void ucnv_setToUCallBack(UConverter *c, UCallback a, const void *x, UCallback *oa, const void **ox, UErrorCode *e) { (void)c; (void)a; (void)x; if (oa) *oa = NULL; if (ox) *ox = NULL; fail(e, 16); }
E void ucnv_setFromUCallBack(UConverter *c, UCallback a, const void *x, UCallback *oa, const void **ox, UErrorCode *e) { (void)c; (void)a; (void)x; if (oa) *oa = NULL; if (ox) *ox = NULL; fail(e, 16); }
E void UCNV_FROM_U_CALLBACK_SUBSTITUTE(const void *x, void *a, const UChar *u, int32_t l, UChar32 cp, int r, UErrorCode *e) { (void)x; (void)a; (void)u; (void)l; (void)cp; (void)r; fail(e, 16); }
E void UCNV_TO_U_CALLBACK_SUBSTITUTE(const void *x, void *a, const char *u, int32_t l, int r, UErrorCode *e) { (void)x; (void)a; (void)u; (void)l; (void)r; fail(e, 16); }
E void ucnv_cbToUWriteUChars(void *a, const UChar *s, int32_t l, int32_t o, UErrorCode *e) { (void)a; (void)s; (void)l; (void)o; fail(e, 16); }
E void ucnv_cbFromUWriteUChars(void *a, const UChar **s, const UChar *lim, int32_t o, UErrorCode *e) { (void)a; (void)s; (void)lim; (void)o; fail(e, 16); }
E void ucnv_toUnicode(UConverter *c, UChar **t, const UChar *tl, const char **s, const char *sl, int32_t *o, UBool f, UErrorCode *e) { (void)c; (void)t; (void)tl; (void)s; (void)sl; (void)o; (void)f; fail(e, 16); }
E void ucnv_fromUnicode(UConverter *c, char **t, const char *tl, const UChar **s, const UChar *sl, int32_t *o, UBool f, UErrorCode *e) { (void)c; (void)t; (void)tl; (void)s; (void)sl; (void)o; (void)f; fail(e, 16); }
E int32_t ucnv_toUCountPending(const UConverter *c, UErrorCode *e) { (void)c; fail(e, 16); return 0; }
E int32_t ucnv_fromUCountPending(const UConverter *c, UErrorCode *e) { (void)c; fail(e, 16); return 0; }
E const char *ucnv_getStandardName(const char *n, const char *s, UErrorCode *e) { (void)n; (void)s; (void)e; return NULL; }
E const char *ucnv_getAvailableName(int32_t n) { (void)n; return NULL; }
E int32_t ucnv_countAvailable(void) { return 0; }
