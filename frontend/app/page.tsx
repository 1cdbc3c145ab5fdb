import { HomeRedirect } from '../features/shell/HomeRedirect';

export default function Page() {
  return <HomeRedirect />;
}
