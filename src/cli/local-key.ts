/** The key the local backend is given by `dev`, `demo` and the local stack: it accepts any, so a real key is never needed or printed. */
export const LOCAL_API_KEY = 'tuneflow-local';
