/* libFuzzer target for the gemini adapter: see fuzz_proto.h for what is checked. */
#define FUZZ_PROTO proto_gemini
#include "fuzz_proto.h"
