/* Always-on assertions: they stay active in release builds (NDEBUG changes nothing).
 * A violated invariant is a programmer error: crash with a message, never continue. */
#ifndef EVC_COMMON_ASSERT_H
#define EVC_COMMON_ASSERT_H

_Noreturn void evc_assert_fail(const char *expr, const char *file, int line);

#define EVC_ASSERT(expr) ((expr) ? (void)0 : evc_assert_fail(#expr, __FILE__, __LINE__))
#define EVC_UNREACHABLE() evc_assert_fail("unreachable", __FILE__, __LINE__)

#endif
