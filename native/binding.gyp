{
  "targets": [
    {
      "target_name": "loa_send",
      "sources": ["loa_send.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS!='linux'", { "type": "none", "sources": [] }]]
    }
  ]
}
