/* libFuzzer target for the anthropic adapter: see fuzz_proto.h for what is checked. */
#define FUZZ_PROTO proto_anthropic
#include "fuzz_proto.h"
