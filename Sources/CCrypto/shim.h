// OpenSSL's libcrypto, for its SHA-256 only (EVP digest API; uses the CPU's SHA extensions where present).
#include <openssl/evp.h>
