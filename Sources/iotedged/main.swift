import EdgeDaemon
print(EdgeDaemonVersion.text)
