// The header says it all: see include/COutpostLinux.h.
