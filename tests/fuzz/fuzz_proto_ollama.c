/* libFuzzer target for the ollama adapter: see fuzz_proto.h for what is checked. */
#define FUZZ_PROTO proto_ollama
#include "fuzz_proto.h"
