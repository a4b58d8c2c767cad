package registry

import (
	"fmt"
	"os"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/diff"
)

// CheckUpdatesEnv names the environment variable that, set to "true",
// makes every update check that its UpdateFunc left the current object
// alone (see checkUnchanged). scripts/test.sh sets it, as it sets
// client-go's KUBE_CACHE_MUTATION_DETECTOR; it costs a copy and a
// comparison per update, so servers do not.
const CheckUpdatesEnv = "TUG_CHECK_UPDATES"

var checkUpdates = os.Getenv(CheckUpdatesEnv) == "true"

// checkUnchanged runs update. When checking, an update that changed
// current, which UpdateFunc forbids, fails with an internal error that
// shows the change.
func checkUnchanged(current runtime.Object, update func() (runtime.Object, error)) (runtime.Object, error) {
	if !checkUpdates || current == nil {
		return update()
	}
	before := current.DeepCopyObject()
	obj, err := update()
	if !reflect.DeepEqual(before, current) {
		return nil, apierrors.NewInternalError(fmt.Errorf("the update changed the stored %T it was given (UpdateFunc must not):\n%s",
			current, diff.Diff(before, current)))
	}
	return obj, err
}
