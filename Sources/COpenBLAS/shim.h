// OpenBLAS' CBLAS interface (pkg-config `openblas` puts its own cblas.h first on the include path),
// which also declares openblas_set_num_threads and openblas_get_corename.
#include <cblas.h>
