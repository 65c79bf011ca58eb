import type { KjuBridge } from '../../common/contract.js';
import { useRoute } from './route.js';
import { LibraryView } from './LibraryView.js';
import { VmView } from './VmView.js';

export function App({ bridge }: { bridge: KjuBridge }) {
  const route = useRoute();
  return route.name === 'vm' ? <VmView key={route.id} bridge={bridge} vmId={route.id} /> : <LibraryView bridge={bridge} />;
}
