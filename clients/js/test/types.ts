// The type test (compiled by build.mjs, never run): what a frontend writes against the
// client compiles, and each line under @ts-expect-error is refused, so the types say
// what public/openapi.json says. The types come from the document as generated at this
// build; should the document drop or rename a field used here, this fails to compile.
import { createLoginClient, ErrorCode, LoginApiError, type Device, type TokenPair } from "../src/index";

const auth = createLoginClient({ baseUrl: "https://login.example.com", language: "en" });

export async function whatAFrontendWrites(): Promise<void> {
  const sent = await auth.sendCode({ phone: "13800138000", purpose: "login", turnstile_token: "t" });
  const code: string | undefined = sent.code;
  const signedIn = await auth.logInWithCode({ phone: "13800138000", code: code ?? "" });
  const isNew: true | undefined = signedIn.new_user;
  const account: string | undefined = signedIn.account;
  await auth.register({ account: "a", password: "p", password_confirmation: "p", phone: "1", code: "1" });
  const pair = await auth.logIn({ account: "a", pwd: "p" });
  const jwt: string = pair.jwt;
  const status = await auth.status();
  const uid: number = status.uid;
  const roles: string[] = status.jwt_data.rid;
  const left: number = status.exp;
  const devices: Device[] = await auth.listSessions();
  for (const device of devices) {
    const sid: string = device.sid;
    const current: boolean = device.current;
    if (!current) await auth.deactivate({ sid });
  }
  await auth.deactivate({ scope: "others" });
  await auth.changePassword({ pwd: "p", password: "q", password_confirmation: "q" });
  await auth.sendCode({ phone: "13900139000", purpose: "change_phone" });
  await auth.changePhone({ phone: "13900139000", code: "123456", pwd: "q" });
  const deleted = await auth.deleteAccount({ pwd: "q" });
  const when: string = deleted.delete_date;
  await auth.resetPassword({ phone: "1", code: "1", password: "r", password_confirmation: "r" });
  const renewed: TokenPair = await auth.refresh();
  const token: string | null = await auth.accessToken();
  const stop: () => void = auth.onSessionChange((event, session) => {
    const signedOut: boolean = event == "signed_out" && session == null;
    void signedOut;
  });
  stop();
  auth.close();
  void [isNew, account, jwt, uid, roles, left, when, renewed, token];
}

export function whatAnErrorCarries(error: unknown): string {
  if (!(error instanceof LoginApiError)) return "";
  const status: number = error.httpStatus;
  const wait: number | undefined = error.retryAfter;
  switch (error.code) {
    case ErrorCode.TooManyRequests:
      return "wait " + wait;
    case ErrorCode.WrongLogin:
      return error.msg;
    // @ts-expect-error: no such code in the document
    case 12345:
      return "";
  }
  return String(status);
}

export async function whatTheTypesRefuse(): Promise<void> {
  // @ts-expect-error: a purpose the document does not list
  await auth.sendCode({ phone: "1", purpose: "signup" });
  // @ts-expect-error: phone is required
  await auth.sendCode({ purpose: "login" });
  // @ts-expect-error: the login's password field is pwd
  await auth.logIn({ account: "a", password: "p" });
  // @ts-expect-error: register needs the confirmation
  await auth.register({ account: "a", password: "p", phone: "1", code: "1" });
  // @ts-expect-error: a scope the document does not list
  await auth.deactivate({ scope: "everything" });
  // @ts-expect-error: a code sign-in needs the code (a string, or a number as the document allows)
  await auth.logInWithCode({ phone: "1" });
  const pair = await auth.logIn({ account: "a", pwd: "p" });
  // @ts-expect-error: only a code sign-in may make the user
  void pair.new_user;
  // @ts-expect-error: deleting says how: the password or a code
  await auth.deleteAccount();
  const status = await auth.status();
  // @ts-expect-error: status has no phone
  void status.phone;
  // @ts-expect-error: baseUrl is required
  createLoginClient({});
}
