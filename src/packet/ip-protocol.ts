// IANA protocol / IPv6 next-header numbers used by the packet codecs.
export const IP_PROTOCOL = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  UDPLITE: 136,
} as const;
