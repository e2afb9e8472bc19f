/* libFuzzer target for the openai adapter: see fuzz_proto.h for what is checked. */
#define FUZZ_PROTO proto_openai
#include "fuzz_proto.h"
