/* A deliberate seam violation: the seam check must reject this library (proof it can fail). */
#include <time.h>

long evc_seam_canary_reads_the_clock(void);

long evc_seam_canary_reads_the_clock(void) { return (long)time(NULL); }
