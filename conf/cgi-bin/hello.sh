#!/bin/sh
# A CGI/1.1 example: shoal runs it in a helper process, with the request's meta-variables in
# its environment and the request body on standard input.
body=""
if [ -n "$CONTENT_LENGTH" ]; then
  body=$(head -c "$CONTENT_LENGTH")
fi
echo "Content-Type: text/plain"
echo
echo "Hello from a CGI program, run by helper process $PPID."
echo "REQUEST_METHOD=$REQUEST_METHOD"
echo "SCRIPT_NAME=$SCRIPT_NAME"
echo "PATH_INFO=$PATH_INFO"
echo "QUERY_STRING=$QUERY_STRING"
echo "REMOTE_ADDR=$REMOTE_ADDR"
echo "HTTP_USER_AGENT=$HTTP_USER_AGENT"
[ -n "$body" ] && echo "body=$body"
exit 0
